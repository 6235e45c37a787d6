package dev.berth.api.task;

import dev.berth.api.oci.runtime.LinuxResources;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A created task: one container's init process, owned by its own shim process. Named after
 * {@link Process} where the idea is the same.
 *
 * <p>The exit is watched from the moment the task is created, before {@link #start()}, so a process
 * that exits at once is never missed. Thread-safe. {@link #close()} only detaches this handle: the task
 * and its shim keep running.
 */
public interface Task extends AutoCloseable {

    String namespace();

    String id();

    /** The bundle directory ({@code <state>/tasks/<ns>/<id>}). */
    Path bundle();

    /** The init process's pid on the host, known from creation on. */
    int pid();

    /** Starts the process. */
    void start();

    /** Asks the shim for the current state. */
    TaskState state();

    /** Sends {@code signal} to the init process. */
    default void kill(int signal) {
        kill(signal, false);
    }

    /** Sends {@code signal} to the init process, or with {@code all} to every process of the container. */
    void kill(int signal, boolean all);

    /** SIGTERM to the init process. */
    default void destroy() {
        kill(15, false);
    }

    /** SIGKILL to every process of the container. */
    default void destroyForcibly() {
        kill(9, true);
    }

    /** Whether the process has not exited yet. */
    default boolean isAlive() {
        return !onExit().isDone();
    }

    /** Waits for the process to exit and all its output to be delivered. */
    ExitStatus waitFor() throws InterruptedException;

    /** Like {@link #waitFor()} but gives up after {@code timeout}, returning empty. */
    Optional<ExitStatus> waitFor(Duration timeout) throws InterruptedException;

    /**
     * Completes when the process has exited and its stdout/stderr have been fully pumped. Each call returns
     * a new future; dependent stages run on the runtime's executor, never on an I/O thread.
     */
    CompletableFuture<ExitStatus> onExit();

    /**
     * Closes the process's stdin (after whatever the stdin stream provided so far). Also works for a task
     * found again after a restart, whose stdin cannot be fed any more.
     */
    void closeStdin();

    /**
     * Sends the output of a task this runtime found again after a restart (see {@link TaskRuntime}) to
     * {@code stdout} and {@code stderr} from now on. Until then (and after {@code attach(null, null)}) the
     * runtime drains such a task's output FIFOs into the slf4j loggers
     * {@code dev.berth.runtime.task.<namespace>.<id>.stdout} and {@code .stderr}, line by line at INFO, so the
     * container never blocks on a full pipe. The first attach also gets what was drained since the
     * reconnect (the output the task wrote while no runtime read, which its FIFO held; at most 256 KiB a
     * stream and within 10 s of the reconnect), so a log kept by the caller has no gap; it may begin with the
     * tail of a line the previous reader took the start of. Otherwise each stream switches at the next line
     * boundary; a null stream goes back to the log, as does one that throws. When another runtime on the
     * state directory reads the output (the one that created the task, or found it first), the attach is
     * kept and takes effect once that runtime lets go: this one tries to take the output over every second.
     * Streams are flushed, never closed; they are written from an I/O thread. stdin cannot be re-attached:
     * the process keeps whatever stdin it had until
     * {@link #closeStdin()}. May be called again to switch streams. Thread-safe.
     *
     * @throws dev.berth.api.FailedPreconditionException if the task was created by this runtime (its output
     *     already goes to the {@link Stdio} it was created with), had no streamed output ({@link
     *     Stdio#nullIO()}, {@link Stdio#file}), or was deleted or closed
     */
    default void attach(OutputStream stdout, OutputStream stderr) {
        throw new UnsupportedOperationException("attach is not supported by " + getClass().getName());
    }

    /**
     * Prepares a process inside this running task, with its own stdio and exit status; {@link
     * ExecProcess#start()} runs it. The shim publishes {@code /tasks/exec-added}, then
     * {@code /tasks/exec-started} and {@code /tasks/exit} (with the exec id).
     *
     * @throws dev.berth.api.AlreadyExistsException if an exec with that id exists
     */
    ExecProcess exec(ExecConfig config);

    /**
     * Runs an exec to completion with stdout and stderr captured (the config's stdio is replaced),
     * {@code stdin} (nullable) fed to it, and removes it again.
     */
    RunResult run(ExecConfig config, byte[] stdin) throws InterruptedException;

    /** The processes in the task's container, with the exec id of those the shim started. */
    List<TaskProcess> pids();

    /** Freezes every process of the task (cgroup freezer); {@code /tasks/paused}. */
    void pause();

    /** Thaws a paused task; {@code /tasks/resumed}. */
    void resume();

    /** Changes the task's resource limits (memory, CPU, pids, ...) while it runs. */
    void update(LinuxResources resources);

    /** The task's resource usage from its cgroup. */
    TaskMetrics stats();

    /** Sets the size of the task's terminal (only for a task created with {@code terminal}). */
    void resizePty(int columns, int rows);

    /**
     * Checkpoints the task with CRIU into {@code config.imageDir()}; restore it with
     * {@link TaskConfig.Builder#restoreFrom}. Needs a CRIU that works on the host kernel.
     */
    void checkpoint(CheckpointConfig config);

    /** How many {@code /tasks/oom} events the shim reported for this task (OOM kills in its cgroup). */
    int oomEvents();

    /**
     * Runs {@code listener} (on the runtime's executor) for every {@code /tasks/oom} event of this task
     * from now on.
     */
    void onOom(Runnable listener);

    /**
     * Deletes the stopped task: removes the process from the shim, stops the shim, removes its socket and
     * the bundle, and returns how the process exited.
     *
     * @throws dev.berth.api.FailedPreconditionException if the process is still running
     */
    ExitStatus delete();

    /** Like {@link #delete()}, but first kills every process of a running task with SIGKILL and waits for it. */
    ExitStatus delete(boolean force);

    /** Detaches from the task: the process and its shim keep running. Idempotent. */
    @Override
    void close();
}
