package dev.berth;

import dev.berth.runtime.Task;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The tasks of one namespace that this JVM's task runtime holds (containerd's task service): those it
 * created and has not deleted. A task's id is its container's id. The first call starts the runtime
 * (and so serves the shims' event socket of the state directory). Thread-safe.
 */
public final class Tasks {
    private final Namespace ns;

    Tasks(Namespace ns) {
        this.ns = ns;
    }

    /** The tasks, by id. */
    public List<Task> list() {
        ns.berth().runtime();
        return ns.runtimeTasks().stream().sorted(Comparator.comparing(Task::id)).toList();
    }

    /** The task of container {@code id}, if this JVM holds one. */
    public Optional<Task> get(String id) {
        Objects.requireNonNull(id, "id");
        return ns.berth().runtime().get(ns.name(), id);
    }
}
