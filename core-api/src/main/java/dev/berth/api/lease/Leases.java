package dev.berth.api.lease;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * containerd's {@code leases.Manager}. A lease protects resources from garbage collection; work that
 * creates several related objects (a pull, an unpack, a container) runs under a lease until the object
 * that references everything (the image or container record) exists. An expiry sets the label
 * {@code containerd.io/gc.expire}; label {@code containerd.io/gc.flat} holds only the named resources.
 * Filters use {@code id} and {@code labels.<key>}.
 */
public interface Leases {

    /**
     * Creates a lease. {@code id} null = a random id; {@code expiry} null = never expires.
     *
     * @throws dev.berth.api.AlreadyExistsException if the id is taken
     */
    Lease create(String id, Map<String, String> labels, Duration expiry);

    /** Deletes a lease; {@code synchronous} runs garbage collection before returning. */
    void delete(String id, boolean synchronous);

    List<Lease> list(String... filters);

    void addResource(String leaseId, LeaseResource resource);

    void deleteResource(String leaseId, LeaseResource resource);

    List<LeaseResource> listResources(String leaseId);
}
