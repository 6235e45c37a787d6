package dev.berth;

import dev.berth.api.NotFoundException;
import dev.berth.runtime.Task;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The tasks of one namespace (containerd's task service). A task's id is its container's id. The first
 * call starts this JVM's task runtime, which serves the shims' event socket of the state directory and
 * reconnects to the tasks earlier processes left running there (e.g. a finished {@code berth run -d}),
 * so their handles offer everything a task created here does: {@link Task#exec exec},
 * {@link Task#pause() pause}, {@link Task#resume() resume}, {@link Task#stats() metrics},
 * {@link Task#pids() pids}, kill and delete. Only one process at a time can hold the state directory's
 * runtime. Thread-safe.
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

    /** The task of container {@code id}, if it has one (created here or by an earlier process). */
    public Optional<Task> get(String id) {
        Objects.requireNonNull(id, "id");
        return ns.berth().runtime().get(ns.name(), id);
    }

    /**
     * The task of container {@code id}.
     *
     * @throws NotFoundException if the container has no task
     */
    public Task require(String id) {
        return get(id).orElseThrow(() -> new NotFoundException("task " + id + ": not found in namespace "
                + ns.name()));
    }
}
