package dev.berth.metadata.internal;

import dev.berth.LeaseScope;
import dev.berth.api.Identifiers;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.lease.Lease;
import dev.berth.sys.sqlite.SqliteDb;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Everything in one namespace: images, containers, leases, the namespace's view of the shared content
 * store, and of each snapshotter. Resources created through these services while a lease is in effect
 * (see {@link #withLease}, {@link #withTemporaryLease}, {@link #useLease}) are added to that lease.
 * Cheap to create; thread-safe.
 */
public final class NamespacedMetadata {
    private final Metadata md;
    private final String ns;
    private final String boundLease;
    private final MetaImageStore images;
    private final MetaContainerStore containers;
    private final MetaLeases leases;
    private final Map<String, MetaSnapshotter> snapshotters = new ConcurrentHashMap<>();
    private volatile MetaContentStore content;

    NamespacedMetadata(Metadata md, String ns, String boundLease) {
        this.md = md;
        this.ns = ns;
        this.boundLease = boundLease;
        this.images = new MetaImageStore(this);
        this.containers = new MetaContainerStore(this);
        this.leases = new MetaLeases(this);
    }

    /** The namespace's name. */
    public String name() {
        return ns;
    }

    public MetaImageStore images() {
        return images;
    }

    public MetaContainerStore containers() {
        return containers;
    }

    public MetaLeases leases() {
        return leases;
    }

    /** This namespace's view of the shared blob store. */
    public MetaContentStore content() {
        MetaContentStore c = content;
        if (c == null) {
            md.content();
            c = new MetaContentStore(this);
            content = c;
        }
        return c;
    }

    /**
     * This namespace's view of snapshotter {@code name}.
     *
     * @throws NotFoundException if no such snapshotter is configured
     */
    public MetaSnapshotter snapshotter(String name) {
        Objects.requireNonNull(name, "snapshotter");
        return snapshotters.computeIfAbsent(name, n -> new MetaSnapshotter(this, md.snapshotter(n)));
    }

    /**
     * A view of this namespace whose services add what they create to lease {@code leaseId}, on any
     * thread (containerd's lease in a context). The lease must exist when something is created.
     */
    public NamespacedMetadata withLease(String leaseId) {
        Identifiers.validate("lease id", leaseId);
        return new NamespacedMetadata(md, ns, leaseId);
    }

    /**
     * Creates a lease expiring after {@code expiry} and makes it current on this thread until the scope
     * closes, which deletes the lease (its resources then live on only if something else references
     * them: an image, a container, another lease).
     */
    public LeaseScope withTemporaryLease(Duration expiry) {
        Objects.requireNonNull(expiry, "expiry");
        if (expiry.isNegative() || expiry.isZero()) {
            throw new InvalidArgumentException("temporary lease expiry must be positive, got " + expiry);
        }
        Lease lease = leases.create(null, Map.of(), expiry);
        return scope(lease.id(), true);
    }

    /**
     * Makes the existing lease {@code leaseId} current on this thread until the scope closes; the lease
     * is kept.
     *
     * @throws NotFoundException if the lease does not exist
     */
    public LeaseScope useLease(String leaseId) {
        Identifiers.validate("lease id", leaseId);
        md.db().read(tx -> {
            requireLease(tx, leaseId);
            return null;
        });
        return scope(leaseId, false);
    }

    private LeaseScope scope(String leaseId, boolean deleteOnClose) {
        Runnable pop = md.pushThreadLease(ns, leaseId);
        return new LeaseScope() {
            private boolean closed;

            @Override
            public String leaseId() {
                return leaseId;
            }

            @Override
            public void close() {
                if (closed) {
                    return;
                }
                closed = true;
                pop.run();
                if (deleteOnClose) {
                    try {
                        leases.delete(leaseId, false);
                    } catch (NotFoundException alreadyGone) {
                        // deleted by hand or expired and collected: nothing left to release
                    }
                }
            }
        };
    }

    /**
     * Set to true, {@link #atomicallyEphemeral} leaves the writes of other databases inside it (the snapshot
     * backend's) synced: the code path before they followed the container's durability (the benchmark's A/B).
     */
    public static final String SYNC_EPHEMERAL_BACKENDS = "berth.syncEphemeralBackends";

    /**
     * Runs {@code work} as one metadata transaction: what it changes through the metadata services on
     * this thread commits together or not at all, its events are published after the commit, and a
     * snapshot it prepared is removed from the backend again if it rolls back. Other writers wait
     * meanwhile, so keep it short (no unpacking inside).
     */
    public <T> T atomically(Supplier<T> work) {
        Objects.requireNonNull(work, "work");
        return md.db().write(tx -> work.get());
    }

    /**
     * As {@link #atomically}, for records meant to go away (a container run with rm): the commit does not
     * wait for the disk. A crash of this process keeps the change; a power loss before the next synced
     * commit may roll it back, which leaves the metadata consistent (a backend snapshot it orphans is
     * collected). See {@link MetaDb#writeUnsynced}. The snapshot backend's writes inside it (its record
     * of the container's snapshot) do not wait for the disk either: after a power loss the container's
     * record may name a backend snapshot that is gone, which its removal (due: it was run with rm)
     * tolerates, or the backend may keep one whose record is gone, which garbage collection removes.
     */
    public <T> T atomicallyEphemeral(Supplier<T> work) {
        Objects.requireNonNull(work, "work");
        if (Boolean.getBoolean(SYNC_EPHEMERAL_BACKENDS)) {
            return md.db().writeUnsynced(tx -> work.get());
        }
        // the snapshot backend's own record of an ephemeral container is as ephemeral as the container's
        return SqliteDb.unsyncedWritesOnThisThread(() -> md.db().writeUnsynced(tx -> work.get()));
    }

    /** The lease in effect for this view on the calling thread: the bound one, else the thread's. */
    public Optional<String> currentLease() {
        return boundLease != null ? Optional.of(boundLease) : md.threadLease(ns);
    }

    // ----- plumbing -----

    Metadata metadata() {
        return md;
    }

    MetaDb db() {
        return md.db();
    }

    void requireLease(SqliteDb.Tx tx, String leaseId) throws SQLException {
        if (!tx.exists("SELECT 1 FROM leases WHERE ns = ? AND id = ?", ns, leaseId)) {
            throw new NotFoundException("lease " + leaseId + " does not exist in namespace " + ns);
        }
    }

    /** Adds a resource to the current lease, if any; fails if that lease no longer exists. */
    void addToCurrentLease(SqliteDb.Tx tx, String type, String id) throws SQLException {
        Optional<String> lease = currentLease();
        if (lease.isPresent()) {
            requireLease(tx, lease.get());
            tx.update("INSERT OR IGNORE INTO lease_resources(ns, lease, type, id) VALUES (?, ?, ?, ?)",
                    ns, lease.get(), type, id);
        }
    }

    void removeFromCurrentLease(SqliteDb.Tx tx, String type, String id) throws SQLException {
        Optional<String> lease = currentLease();
        if (lease.isPresent()) {
            tx.update("DELETE FROM lease_resources WHERE ns = ? AND lease = ? AND type = ? AND id = ?",
                    ns, lease.get(), type, id);
        }
    }

    @Override
    public String toString() {
        return "namespace " + ns + (boundLease == null ? "" : " (lease " + boundLease + ")");
    }
}
