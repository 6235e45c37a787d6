package dev.berth.api.task;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A process started inside a running task by {@link Task#exec}. Its exit is watched from creation on, like
 * the task's. Thread-safe. {@link #close()} only detaches; {@link #delete()} removes it from the shim.
 */
public interface ExecProcess extends AutoCloseable {

    String execId();

    /** The process's pid on the host, 0 before {@link #start()}. */
    int pid();

    /** Starts the process. */
    void start();

    void kill(int signal);

    /** Whether the process has not exited yet. */
    default boolean isAlive() {
        return !onExit().isDone();
    }

    /** Waits for the process to exit and all its output to be delivered. */
    ExitStatus waitFor() throws InterruptedException;

    /** Like {@link #waitFor()} but gives up after {@code timeout}, returning empty. */
    Optional<ExitStatus> waitFor(Duration timeout) throws InterruptedException;

    /** Completes when the process has exited and its output has been delivered; a new future per call. */
    CompletableFuture<ExitStatus> onExit();

    /** Closes the process's stdin. */
    void closeStdin();

    /** Sets the size of the process's terminal (only for {@code terminal} execs). */
    void resizePty(int columns, int rows);

    /**
     * Removes the exited process from the shim and returns how it exited.
     *
     * @throws dev.berth.api.FailedPreconditionException if it is still running
     */
    ExitStatus delete();

    /** Detaches from the process; it keeps running. Idempotent. */
    @Override
    void close();
}
