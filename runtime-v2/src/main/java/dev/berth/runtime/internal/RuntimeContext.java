package dev.berth.runtime.internal;

import io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What tasks, execs and shim connections need from the runtime that made them, fixed at the runtime's
 * start: where things live, the threads, the deadline of shim calls and the few shared services (events,
 * session reaper, bundle removal, the table of tasks). Passed in instead of call-backs into the runtime.
 */
record RuntimeContext(Path stateDir, EventLoopGroup loop, Executor ioThreads, Executor callbackExecutor,
                      ScheduledExecutorService scheduler, Duration rpcTimeout, ShimProcesses launcher,
                      EventRouter events, Sessions sessions, Removals removals, TaskTable tasks,
                      TaskLocks locks, TaskLocks outputLocks) {
    /** The shim's Connect after start or on reconnect: containerd's {@code io.containerd.timeout.shim.load}. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** containerd's {@code io.containerd.timeout.shim.shutdown}. */
    static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(3);
    /**
     * containerd passes its own binary for legacy shims to run {@code publish} with; Berth has none and
     * runc v2 shims publish over ttrpc, so a binary that does nothing is the honest answer.
     */
    private static final Path PUBLISH_BINARY = Path.of("/bin/false");

    static TaskLocks taskLocks(Path stateDir) {
        return new TaskLocks(stateDir.resolve("locks"));
    }

    /** Held by the one runtime that drains a task's output FIFOs (namespaces never start with a dot). */
    static TaskLocks outputLocks(Path stateDir) {
        return new TaskLocks(stateDir.resolve("locks").resolve(".output"));
    }

    /** Held by the runtime that uses a shared shim ({@code <state>/shims/<ns>/<id>}), so no other stops it. */
    TaskLocks shimLocks() {
        return new TaskLocks(stateDir.resolve("locks").resolve(".shims"));
    }

    /**
     * Held by the task of a shim group that starts the group's shim, so its siblings arriving meanwhile join
     * that shim instead of running the shim's {@code start} beside it (see {@link ShimTask#create}).
     */
    TaskLocks groupLocks() {
        return new TaskLocks(stateDir.resolve("locks").resolve(".groups"));
    }

    /** The {@code -address} shims are started with (no one listens there; it scopes their socket names). */
    String grpcAddress() {
        return stateDir.resolve("berth.sock").toString();
    }

    Path eventsSocket() {
        return stateDir.resolve("events.sock");
    }

    /** The runc state root for tasks that do not name one; the shim adds a per-namespace directory. */
    Path runcRoot() {
        return stateDir.resolve("runc");
    }

    Path tasksDir() {
        return stateDir.resolve("tasks");
    }

    /** Home directories of shared shims: {@code <state>/shims/<ns>/<shim id>}. */
    Path shimsDir() {
        return stateDir.resolve("shims");
    }

    Path fifoDir(String namespace, String id) {
        return stateDir.resolve("fifo").resolve(namespace).resolve(id);
    }

    ShimLauncher.Context shimContext(String namespace, String id, Path bundle, boolean privateCgroup2) {
        return new ShimLauncher.Context(namespace, id, bundle, grpcAddress(), PUBLISH_BINARY, eventsSocket(),
                privateCgroup2);
    }
}
