package dev.berth;

import dev.berth.api.BerthException;
import dev.berth.api.NotFoundException;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskProcess;
import dev.berth.api.task.TaskRuntime;
import dev.berth.api.task.TaskSnapshot;
import dev.berth.runtime.TaskInspector;
import dev.berth.runtime.TaskRuntimes;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The tasks of one namespace (containerd's task service). A task's id is its container's id. The first
 * call that needs a {@link Task} handle starts this JVM's task runtime, which serves the shims' event socket
 * of the state directory (while no other live process does) and finds the tasks other processes created
 * there, live or gone (e.g. a finished {@code berth run -d}), so their handles offer everything a task
 * created here does: {@link Task#exec exec}, {@link Task#pause() pause}, {@link Task#resume() resume},
 * {@link Task#stats() metrics}, {@link Task#pids() pids}, kill and delete. Any number of processes run a
 * runtime on one state directory at once (per-task locks). The read-only {@link #inspect()},
 * {@link #inspect(String)} and {@link #processes(String)} start none: a lighter way to look. Thread-safe.
 */
public final class Tasks {
    private final Namespace ns;

    Tasks(Namespace ns) {
        this.ns = ns;
    }

    /**
     * The tasks, by id, as handles of this process's runtime (started if need be), whichever process
     * created them.
     */
    public List<Task> list() {
        ns.berth().runtime();
        ns.berth().awaitRemovals(ns.name());
        return ns.runtimeTasks().stream().sorted(Comparator.comparing(Task::id)).toList();
    }

    /**
     * Starts this process's task runtime if need be and has it launch a spare shim for this namespace now
     * (unless one is ready or on its way), so the namespace's next task that gets a shim of its own, with the
     * default runtime and runc options, takes it instead of starting one in line. Returns at once; the shim
     * starts on a runtime thread. Without this, the first spare is launched when a first task lets go of its
     * shim. Returns false when spare shims are off ({@link Berth.Builder#spareShim}).
     */
    public boolean prepareShim() {
        return TaskRuntimes.prepareSpareShim(ns.berth().runtime(), ns.name());
    }

    /**
     * Hands this process's ready spare shim for this namespace over as the shim of a new shim group (the runc
     * shim's {@code io.containerd.runc.v2.group}, e.g. {@link dev.berth.runtime.spec.SpecOptions#shimGroup}): returns the group name;
     * the group's first task then finds its shim running instead of starting one. Empty when spare shims are
     * off or none is ready (call {@link #prepareShim} ahead; the next one is launched then). After a take,
     * {@link #prepareShim} launches the next spare (e.g. once the group's first task runs). The shim
     * stops with the group's last task, or at {@link #endShimGroup} if no task came; it outlives this JVM
     * as its tasks do.
     */
    public Optional<String> takeShimAsGroup() {
        return TaskRuntimes.takeSpareShimAsGroup(ns.berth().runtime(), ns.name());
    }

    /** Group {@code group} (from {@link #takeShimAsGroup}) takes no new tasks: its shim exits now if it serves none. */
    public void endShimGroup(String group) {
        TaskRuntime r = ns.berth().runtimeIfStarted();
        if (r != null) {
            TaskRuntimes.endShimGroup(r, group);
        }
    }

    /**
     * The tasks, by id, as their shims report them, without starting this process's task runtime: from
     * its handles if it is started, otherwise read-only from the state directory (see
     * {@link TaskInspector}), whichever process owns it. A task whose shim does not answer is
     * {@link dev.berth.api.task.TaskStatus#UNKNOWN UNKNOWN} with the reason in {@link TaskSnapshot#error()}.
     * Unlike starting a runtime, this cleans nothing up: the bundle of a task whose shim is gone stays
     * until a runtime opens the state directory.
     */
    public List<TaskSnapshot> inspect() {
        ns.berth().ensureOpen();
        ns.berth().awaitRemovals(ns.name());
        if (ns.berth().runtimeIfStarted() != null) {
            return ns.runtimeTasks().stream().map(this::snapshot).sorted(Comparator.comparing(TaskSnapshot::id))
                    .toList();
        }
        try (TaskInspector inspector = TaskRuntimes.inspect(ns.berth().stateDir())) {
            return inspector.list(ns.name());
        }
    }

    /** The task of container {@code id} as its shim reports it, read-only as {@link #inspect()}. */
    public Optional<TaskSnapshot> inspect(String id) {
        Objects.requireNonNull(id, "id");
        ns.berth().awaitRemoval(ns.name(), id);
        ns.berth().ensureOpen();
        var rt = ns.berth().runtimeIfStarted();
        if (rt != null) {
            return rt.get(ns.name(), id).map(this::snapshot);
        }
        try (TaskInspector inspector = TaskRuntimes.inspect(ns.berth().stateDir())) {
            return inspector.get(ns.name(), id);
        }
    }

    /**
     * The processes of container {@code id}'s task, read-only as {@link #inspect()}.
     *
     * @throws NotFoundException if the container has no task
     * @throws dev.berth.api.UnavailableException if its shim does not answer
     */
    public List<TaskProcess> processes(String id) {
        Objects.requireNonNull(id, "id");
        ns.berth().ensureOpen();
        if (ns.berth().runtimeIfStarted() != null) {
            return require(id).pids();
        }
        try (TaskInspector inspector = TaskRuntimes.inspect(ns.berth().stateDir())) {
            return inspector.pids(ns.name(), id);
        }
    }

    private TaskSnapshot snapshot(Task task) {
        Path bundle = ns.berth().stateDir().resolve("tasks").resolve(ns.name()).resolve(task.id());
        try {
            return TaskSnapshot.of(ns.name(), bundle, task.state());
        } catch (BerthException e) {
            return TaskSnapshot.unknown(ns.name(), task.id(), bundle, "its shim did not report its state: "
                    + e.getMessage());
        }
    }

    /** The task of container {@code id}, if it has one (created here or by an earlier process). */
    public Optional<Task> get(String id) {
        Objects.requireNonNull(id, "id");
        ns.berth().awaitRemoval(ns.name(), id);
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
