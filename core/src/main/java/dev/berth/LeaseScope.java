package dev.berth;

/**
 * A lease made current for the calling thread within one namespace: blobs, ingests and snapshots the
 * namespace's services create on this thread while the scope is open are added to the lease (containerd
 * does this through the request context). Scopes nest; {@link #close()} restores the previous lease and,
 * for a temporary lease, deletes it. Must be closed on the thread that opened it. Idempotent close.
 */
public interface LeaseScope extends AutoCloseable {

    /** The id of the lease this scope made current. */
    String leaseId();

    @Override
    void close();
}
