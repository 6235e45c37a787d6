package dev.berth.api.container;

import java.util.List;

/**
 * Container records: containerd's {@code containers.Store}. Filters use {@code id}, {@code image},
 * {@code runtime.name}, {@code snapshotter}, {@code snapshotkey} and {@code labels.<key>}. Thread-safe.
 */
public interface ContainerStore {

    /** @throws dev.berth.api.NotFoundException if absent */
    ContainerRecord get(String id);

    List<ContainerRecord> list(String... filters);

    /** @throws dev.berth.api.AlreadyExistsException if the id is taken */
    ContainerRecord create(ContainerRecord container);

    /**
     * Field paths: {@code labels}, {@code labels.<key>}, {@code spec}, {@code image}, {@code snapshotkey},
     * {@code extensions.<name>}; none = labels and spec. Runtime and snapshotter are immutable.
     */
    ContainerRecord update(ContainerRecord container, String... fieldPaths);

    /** @throws dev.berth.api.NotFoundException if absent */
    void delete(String id);
}
