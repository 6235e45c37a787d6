package dev.berth.runtime;

import dev.berth.api.event.Events;
import dev.berth.runtime.internal.ShimRuntime;
import dev.berth.runtime.internal.RuntimeSettings;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * Runs tasks through containerd runtime-v2 shims ({@code containerd-shim-runc-v2} and friends) without a
 * containerd daemon. It keeps bundles under {@code <state>/tasks/<ns>/<id>}, serves the shims' event
 * socket at {@code <state>/events.sock} and turns their {@code /tasks/*} events into
 * {@link dev.berth.api.event.TaskEvent}s on the given {@link Events}.
 *
 * <p>Tasks outlive the runtime and its JVM (each has its own shim process, or shares one with other tasks
 * of its namespace when {@link Builder#sharedShims shared shims} are on). A runtime built on a state
 * directory that a previous one used finds its tasks again: those whose shim answers come back in
 * {@link #tasks()} with their exit still observable through {@link Task#waitFor()}; bundles whose shim is
 * gone are cleaned up with the shim's {@code delete} action and their exit published as
 * {@code /tasks/exit} and {@code /tasks/delete}. Only one runtime at a time may use a state directory;
 * other processes can still look at its tasks through {@link #inspect(Path)}.
 *
 * <p>Thread-safe. {@link #close()} releases this JVM's resources and leaves tasks running, except those
 * created {@link TaskConfig.Builder#sessionScoped session-scoped}.
 */
public interface TaskRuntime extends AutoCloseable {

    /** The runtime name used when a task names none. */
    String DEFAULT_RUNTIME = "io.containerd.runc.v2";

    /** How long an unused shared shim waits for the next task by default ({@link Builder#sharedShims}). */
    Duration DEFAULT_SHARED_SHIM_IDLE = Duration.ofSeconds(10);

    /** How long {@link #inspect(Path)} waits for each shim by default. */
    Duration DEFAULT_INSPECT_TIMEOUT = Duration.ofSeconds(5);

    static Builder builder() {
        return new Builder();
    }

    /**
     * A read-only view of the tasks in {@code stateDir}, also while another process's runtime owns it: see
     * {@link TaskInspector}. Takes no lock and writes nothing; each shim gets
     * {@link #DEFAULT_INSPECT_TIMEOUT} to answer.
     */
    static TaskInspector inspect(Path stateDir) {
        return inspect(stateDir, DEFAULT_INSPECT_TIMEOUT);
    }

    /**
     * As {@link #inspect(Path)}, with {@code timeout} for each shim to answer.
     *
     * @throws dev.berth.api.InvalidArgumentException if {@code timeout} is not positive
     */
    static TaskInspector inspect(Path stateDir, Duration timeout) {
        Objects.requireNonNull(stateDir, "stateDir");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new dev.berth.api.InvalidArgumentException("inspect timeout must be positive: " + timeout);
        }
        return new dev.berth.runtime.internal.StateInspector(stateDir.toAbsolutePath(), timeout);
    }

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

    /** Configures a {@link TaskRuntime}. */
    final class Builder {
        private Path stateDir;
        private Events events;
        private String defaultRuntime = DEFAULT_RUNTIME;
        private List<Path> shimSearchPath;
        private Executor executor;
        private Duration rpcTimeout = Duration.ofSeconds(30);
        private boolean sharedShims;
        private Duration sharedShimIdle = DEFAULT_SHARED_SHIM_IDLE;

        private Builder() {
        }

        /** Required: where bundles, FIFOs, runc state and the events socket live (e.g. {@code /run/berth}). */
        public Builder stateDir(Path stateDir) {
            this.stateDir = Objects.requireNonNull(stateDir, "stateDir").toAbsolutePath();
            return this;
        }

        /** Where shim events are forwarded; without it they are only used internally. */
        public Builder events(Events events) {
            this.events = Objects.requireNonNull(events, "events");
            return this;
        }

        public Builder defaultRuntime(String runtime) {
            this.defaultRuntime = Objects.requireNonNull(runtime, "runtime");
            return this;
        }

        /** Directories searched for {@code containerd-shim-*} binaries; default: {@code $PATH}. */
        public Builder shimSearchPath(List<Path> dirs) {
            this.shimSearchPath = List.copyOf(dirs);
            return this;
        }

        /** Where {@link Task#onExit()} stages run; default: the runtime's own daemon threads. */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** Deadline of each shim call (Wait excepted); default 30 s. */
        public Builder rpcTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new dev.berth.api.InvalidArgumentException("rpcTimeout must be positive: " + timeout);
            }
            this.rpcTimeout = timeout;
            return this;
        }

        /**
         * Lets tasks share shim processes, as containerd does for the containers of a Kubernetes pod through
         * the runc shim's grouping ({@code io.containerd.runc.v2.group}): tasks of one namespace with the same
         * runtime, {@link RuncOptions} and {@link TaskConfig.Builder#privateCgroup2 privateCgroup2} are
         * served by one shim, which is started once instead of per task. This saves the shim's start (tens
         * of milliseconds) and its memory (about 3 MiB) per task. The trade-off: a shim that crashes or is
         * killed takes the exit of every task it serves (each is cleaned up and reports exit 137, as a lone
         * task would), and its tasks share its CPU for their stdio. Off by default.
         *
         * <p>A shared shim stays until its last task is deleted, then waits {@link #sharedShimIdleTimeout}
         * for the next task before it stops; {@link TaskRuntime#close()} stops idle ones at once (shims still
         * serving tasks keep running, as tasks outlive the runtime). Session-scoped tasks never share a
         * shim. A runtime reopened on the state directory finds shared shims again through their tasks'
         * bundles, but starts new ones for new tasks.
         */
        public Builder sharedShims(boolean shared) {
            this.sharedShims = shared;
            return this;
        }

        /**
         * How long an unused shared shim waits for the next task before it stops; zero stops it with its last
         * task. Default {@link TaskRuntime#DEFAULT_SHARED_SHIM_IDLE}.
         */
        public Builder sharedShimIdleTimeout(Duration idle) {
            if (idle.isNegative()) {
                throw new dev.berth.api.InvalidArgumentException("sharedShimIdleTimeout must not be negative: " + idle);
            }
            this.sharedShimIdle = idle;
            return this;
        }

        /**
         * Starts serving the events socket and finds the tasks a previous runtime left in the state directory
         * (see the class comment).
         *
         * @throws dev.berth.api.InvalidArgumentException if no state directory was set
         * @throws dev.berth.api.FailedPreconditionException if another runtime uses the state directory
         */
        public TaskRuntime build() {
            if (stateDir == null) {
                throw new dev.berth.api.InvalidArgumentException("TaskRuntime needs a stateDir");
            }
            List<Path> search = shimSearchPath;
            if (search == null) {
                search = new ArrayList<>();
                String path = System.getenv("PATH");
                for (String dir : (path == null ? "/usr/local/bin:/usr/bin:/bin" : path).split(File.pathSeparator)) {
                    if (!dir.isEmpty()) {
                        search.add(Path.of(dir));
                    }
                }
            }
            return new ShimRuntime(new RuntimeSettings(stateDir, Optional.ofNullable(events), defaultRuntime,
                    List.copyOf(search), Optional.ofNullable(executor), rpcTimeout, sharedShims, sharedShimIdle));
        }
    }
}
