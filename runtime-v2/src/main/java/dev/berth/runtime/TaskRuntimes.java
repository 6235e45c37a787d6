package dev.berth.runtime;

import dev.berth.api.event.Events;
import dev.berth.api.task.RuncOptions;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskRuntime;
import dev.berth.runtime.internal.RuntimeSettings;
import dev.berth.runtime.internal.ShimRuntime;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * Builds Berth's {@link TaskRuntime} over containerd runtime-v2 shim binaries, and looks at a state
 * directory another process's runtime owns ({@link #inspect(Path)}).
 *
 * <p>Tasks have their own shim process each, or share one with other tasks of their namespace when
 * {@link Builder#sharedShims shared shims} are on. Other processes can look at a runtime's tasks through
 * {@link #inspect(Path)}.
 */
public final class TaskRuntimes {

    private TaskRuntimes() {
    }

    /** How long an unused shared shim waits for the next task by default ({@link Builder#sharedShims}). */
    public static final Duration DEFAULT_SHARED_SHIM_IDLE = Duration.ofSeconds(10);

    /** How long {@link #inspect(Path)} waits for each shim by default. */
    public static final Duration DEFAULT_INSPECT_TIMEOUT = Duration.ofSeconds(5);

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Has {@code runtime} (one of these) launch its spare shim for {@code namespace} now, for the next task with
     * the default runtime and runc options, unless one is ready or on its way (see {@link Builder#spareShim});
     * returns at once. Returns false if spare shims are off or the runtime is not one built here.
     */
    public static boolean prepareSpareShim(TaskRuntime runtime, String namespace) {
        Objects.requireNonNull(namespace, "namespace");
        return runtime instanceof dev.berth.runtime.internal.ShimRuntime r && r.prepareSpareShim(namespace);
    }

    /**
     * Has {@code runtime} (one of these) hand its ready spare shim for {@code namespace} over as the shim of a
     * new shim group (the runc shim's {@code io.containerd.runc.v2.group} annotation): returns the group name
     * to put in the specs of the group's tasks, whose first one then finds its shim running instead of
     * starting one; or empty when spare shims are off, none is ready, or the runtime is not one built here.
     * The next spare is launched by the next {@link #prepareSpareShim} (at once if none was ready). The shim
     * stops with the group's last task, or at
     * {@link #endShimGroup} if no task came; it outlives the JVM as its tasks do.
     */
    public static Optional<String> takeSpareShimAsGroup(TaskRuntime runtime, String namespace) {
        Objects.requireNonNull(namespace, "namespace");
        return runtime instanceof dev.berth.runtime.internal.ShimRuntime r ? r.takeSpareShimAsGroup(namespace)
                : Optional.empty();
    }

    /**
     * Group {@code group} (from {@link #takeSpareShimAsGroup}) takes no new tasks: its shim exits now if it
     * serves none (else with its last task, as before). Returns at once; unknown groups are ignored.
     */
    public static void endShimGroup(TaskRuntime runtime, String group) {
        Objects.requireNonNull(group, "group");
        if (runtime instanceof dev.berth.runtime.internal.ShimRuntime r) {
            r.endShimGroup(group);
        }
    }

    /**
     * A read-only view of the tasks in {@code stateDir}, also while another process's runtime owns it: see
     * {@link TaskInspector}. Takes no lock and writes nothing; each shim gets
     * {@link #DEFAULT_INSPECT_TIMEOUT} to answer.
     */
    public static TaskInspector inspect(Path stateDir) {
        return inspect(stateDir, DEFAULT_INSPECT_TIMEOUT);
    }

    /**
     * As {@link #inspect(Path)}, with {@code timeout} for each shim to answer.
     *
     * @throws dev.berth.api.InvalidArgumentException if {@code timeout} is not positive
     */
    public static TaskInspector inspect(Path stateDir, Duration timeout) {
        Objects.requireNonNull(stateDir, "stateDir");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new dev.berth.api.InvalidArgumentException("inspect timeout must be positive: " + timeout);
        }
        return new dev.berth.runtime.internal.StateInspector(stateDir.toAbsolutePath(), timeout);
    }

    /** Configures a {@link TaskRuntime}. */
    public static final class Builder {
        private Path stateDir;
        private Events events;
        private String defaultRuntime = TaskRuntime.DEFAULT_RUNTIME;
        private List<Path> shimSearchPath;
        private Executor executor;
        private Duration rpcTimeout = Duration.ofSeconds(30);
        private boolean sharedShims;
        private Duration sharedShimIdle = DEFAULT_SHARED_SHIM_IDLE;
        private boolean spareShim;

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
         * Keeps one spare shim launched ahead of need, so a task that gets a shim of its own (shared shims
         * off) does not wait for one to start: the next such task of the same namespace, runtime,
         * {@link RuncOptions} and {@code privateCgroup2} takes the spare, and its creation launches the next
         * spare in the background. The task still has the shim to itself, and the shim stops with the task;
         * only its command line names the spare ({@code -id berth-shim-...}) instead of the task, and its
         * home is under {@code <state>/shims}, as for shared shims; the home records the task it serves, and a
         * later runtime reaches that task's shim through the task's bundle like any shim of a task's own (the
         * home goes with the shim). The spare is no task and no other runtime's business: it is stopped by
         * {@link TaskRuntime#close()}, reaped by the session reaper if the JVM dies, and stopped by the next
         * runtime on the state directory if it finds it unused. Session-scoped tasks always start their own.
         * Off by default here; {@code dev.berth.Berth} turns it on.
         */
        public Builder spareShim(boolean spare) {
            this.spareShim = spare;
            return this;
        }

        /**
         * How long an unused shared shim waits for the next task before it stops; zero stops it with its last
         * task. Default {@link #DEFAULT_SHARED_SHIM_IDLE}.
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
                    List.copyOf(search), Optional.ofNullable(executor), rpcTimeout, sharedShims, sharedShimIdle, spareShim));
        }
    }
}
