package dev.berth.api.task;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Runs tasks through containerd runtime-v2 shims ({@code containerd-shim-runc-v2} and friends) without a
 * containerd daemon. The implementation is Berth's runtime-v2 module ({@code dev.berth.runtime.TaskRuntimes}
 * builds one); this interface lets code that drives tasks be tested with a runtime of its own.
 *
 * <p>An implementation keeps bundles under {@code <state>/tasks/<ns>/<id>}, serves the shims' event socket
 * at {@code <state>/events.sock} and turns their {@code /tasks/*} events into
 * {@link dev.berth.api.event.TaskEvent}s. Tasks outlive the runtime and its JVM. A runtime built on a
 * state directory that a previous one used finds its tasks again: those whose shim answers come back in
 * {@link #tasks()} with their exit still observable through {@link Task#waitFor()}; bundles whose shim is
 * gone are cleaned up with the shim's {@code delete} action and their exit published as
 * {@code /tasks/exit} and {@code /tasks/delete}. Only one runtime at a time may use a state directory.
 *
 * <p>Thread-safe. {@link #close()} releases this JVM's resources and leaves tasks running, except those
 * created {@link TaskConfig.Builder#sessionScoped session-scoped}.
 */
public interface TaskRuntime extends AutoCloseable {

    /** The runtime name used when a task names none. */
    String DEFAULT_RUNTIME = "io.containerd.runc.v2";

    /**
     * Creates a task: writes its bundle, starts its shim and has it create the (not yet started) process.
     * On failure nothing is left behind: no bundle, shim process, socket or FIFO.
     *
     * @throws dev.berth.api.AlreadyExistsException if a task with that namespace and id exists
     * @throws dev.berth.api.NotFoundException if the runtime's shim binary cannot be found
     */
    Task create(TaskConfig config);

    /** A task this runtime created and has not deleted. */
    Optional<Task> get(String namespace, String id);

    /** Tasks this runtime created and has not deleted. */
    List<Task> tasks();

    /**
     * Creates, starts, waits for and deletes a task whose stdout and stderr are captured (the config's
     * stdio is replaced); {@code stdin} (nullable) is fed to the process.
     */
    RunResult run(TaskConfig config, byte[] stdin) throws InterruptedException;

    default RunResult run(TaskConfig config) throws InterruptedException {
        return run(config, null);
    }

    Path stateDir();

    /**
     * Stops serving shim events and drops connections; tasks and shims keep running, except session-scoped
     * tasks, which are killed and removed before this returns. Idempotent.
     */
    @Override
    void close();
}
