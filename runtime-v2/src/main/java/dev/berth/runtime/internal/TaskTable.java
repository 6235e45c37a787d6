package dev.berth.runtime.internal;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** The tasks a runtime knows, by namespace and id. */
final class TaskTable {
    private final ConcurrentMap<String, ShimTask> tasks = new ConcurrentHashMap<>();

    static String key(String namespace, String id) {
        return namespace + "/" + id;
    }

    /** Adds {@code task} unless one with its name is known; returns whether it was added. */
    boolean add(ShimTask task) {
        return tasks.putIfAbsent(key(task.namespace(), task.id()), task) == null;
    }

    Optional<ShimTask> get(String namespace, String id) {
        return Optional.ofNullable(tasks.get(key(namespace, id)));
    }

    boolean contains(String namespace, String id) {
        return tasks.containsKey(key(namespace, id));
    }

    void remove(ShimTask task) {
        tasks.remove(key(task.namespace(), task.id()), task);
    }

    List<ShimTask> all() {
        return List.copyOf(tasks.values());
    }
}
