package dev.berth.runtime.internal;

import dev.berth.api.BerthException;
import dev.berth.api.NotFoundException;
import dev.berth.runtime.internal.proto.task.ConnectRequest;
import dev.berth.runtime.internal.proto.task.ConnectResponse;
import dev.berth.runtime.internal.proto.task.ShutdownRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shim process serving one task: started for it, shut down with it. Or, for a task of a shim group
 * ({@link ShimGroup}), the task's own connection to its group's shim, which the first task of the group
 * started: deleting the task then stops the shim only when no other task of the group is left.
 */
final class OwnShim implements ShimConnection {
    private static final Logger log = LoggerFactory.getLogger(OwnShim.class);

    private final RuntimeContext ctx;
    private final Path shimBinary;
    private final ShimLauncher.Context launch;
    private final Path socket;
    private final ShimClient client;
    private final ConnectResponse connected;
    private final ShimLog shimLog;
    /** The task's shim group, or null: the shim is the task's alone. */
    private final String group;

    private OwnShim(RuntimeContext ctx, Path shimBinary, ShimLauncher.Context launch, Path socket, ShimClient client,
                    ConnectResponse connected, ShimLog shimLog, String group) {
        this.ctx = ctx;
        this.group = group;
        this.shimBinary = shimBinary;
        this.launch = launch;
        this.socket = socket;
        this.client = client;
        this.connected = connected;
        this.shimLog = shimLog;
    }

    /**
     * Runs the shim's {@code start} in the bundle, connects and records the binary in the bundle. Whatever
     * fails once the shim runs stops it again, as containerd does after a failed start (a Shutdown if it can
     * be reached, its delete action, a kill by its command line), so no shim is left orphaned.
     */
    static OwnShim start(RuntimeContext ctx, Bundle bundle, Path shimBinary, ShimLauncher.Context launch,
                         byte[] options) throws IOException {
        ShimLog shimLog = ShimLog.start(bundle.log(), loggerName(launch), ctx.ioThreads());
        Path socket;
        try {
            socket = ctx.launcher().start(shimBinary, launch, options);
        } catch (RuntimeException e) {
            shimLog.close();
            throw e;
        }
        ShimClient client = null;
        try {
            client = ShimClient.connect(ctx.loop(), socket, launch.namespace(), RuntimeContext.CONNECT_TIMEOUT);
            ConnectResponse connected = ShimClient.await(client.connect(
                    ConnectRequest.newBuilder().setId(launch.id()).build(), RuntimeContext.CONNECT_TIMEOUT));
            bundle.writeShimBinaryPath(shimBinary);
            return new OwnShim(ctx, shimBinary, launch, socket, client, connected, shimLog,
                    bundle.shimGroup().orElse(null));
        } catch (RuntimeException | IOException e) {
            log.debug("shim of {}/{} started but cannot be used ({}); stopping it", launch.namespace(), launch.id(),
                    e.toString());
            OwnShim failed = new OwnShim(ctx, shimBinary, launch, socket, client, null, shimLog,
                    bundle.shimGroup().orElse(null));
            failed.release(true);
            try {
                ctx.launcher().delete(shimBinary, launch);
            } catch (RuntimeException d) {
                log.debug("delete action after the failed start of {}/{}: {}", launch.namespace(), launch.id(),
                        d.toString());
            }
            killLeftovers(ctx, shimBinary, launch);
            throw e;
        }
    }

    /**
     * Joins {@code sibling}'s shim, the running shim of the task's group (a live task of the group in this
     * runtime), without running the shim's {@code start}, which for a group whose socket answers only writes
     * that address into the bundle and exits: one shim process launch less per grouped task. No
     * {@code Connect} call either (it would only report the shim's pid, known from the sibling, and it
     * waits in the runc shim behind another task's create). Empty when the shim's socket does not accept
     * (the shim may be exiting with the group's last task): the caller then runs {@code start}, as before.
     * The shim's log stays with the task it was started for (the shim writes only the log FIFO of that
     * bundle).
     */
    static java.util.Optional<OwnShim> join(RuntimeContext ctx, Bundle bundle, Path shimBinary,
                                            ShimLauncher.Context launch, OwnShim sibling) throws IOException {
        return join(ctx, bundle, shimBinary, launch, sibling.socket, sibling.connected.getShimPid());
    }

    /**
     * Joins the group's shim listening on {@code socket} (process {@code shimPid}) as {@link #join(RuntimeContext,
     * Bundle, Path, ShimLauncher.Context, OwnShim)} does: also the spare a group was named after (its first
     * task), whose log the runtime drains from the spare's home.
     */
    static java.util.Optional<OwnShim> join(RuntimeContext ctx, Bundle bundle, Path shimBinary,
                                            ShimLauncher.Context launch, Path socket, int shimPid) throws IOException {
        ShimClient client;
        try {
            client = ShimClient.connect(ctx.loop(), socket, launch.namespace(), RuntimeContext.CONNECT_TIMEOUT);
        } catch (RuntimeException e) {
            log.debug("shim of group at {} does not accept ({}); starting the task's shim", socket, e.toString());
            return java.util.Optional.empty();
        }
        try {
            bundle.writeAddress(socket);
            bundle.writeShimBinaryPath(shimBinary);
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
        ConnectResponse connected = ConnectResponse.newBuilder().setShimPid(shimPid).build();
        return java.util.Optional.of(new OwnShim(ctx, shimBinary, launch, socket, client, connected, null,
                bundle.shimGroup().orElse(null)));
    }

    /** Whether this is a live connection to {@code group}'s shim, which another task may join. */
    boolean servesGroup(String group) {
        return group.equals(this.group) && connected != null && client != null && client.isOpen();
    }

    /** Connects to the shim a previous runtime started for the task (its {@code address} in the bundle). */
    static OwnShim reconnect(RuntimeContext ctx, Bundle bundle, Path shimBinary, ShimLauncher.Context launch) {
        return reconnect(ctx, bundle, bundle.log(), shimBinary, launch);
    }

    /** Like {@link #reconnect(RuntimeContext, Bundle, Path, ShimLauncher.Context)}, draining the shim's log FIFO {@code log}. */
    static OwnShim reconnect(RuntimeContext ctx, Bundle bundle, Path logFifo, Path shimBinary,
                             ShimLauncher.Context launch) {
        Path socket = bundle.socket().orElseThrow(() -> new NotFoundException("bundle " + bundle.dir()
                + " has no shim address"));
        ShimLog shimLog = null;
        try {
            shimLog = ShimLog.start(logFifo, loggerName(launch), ctx.ioThreads());
        } catch (IOException e) {
            log.debug("no shim log for {}/{}: {}", launch.namespace(), launch.id(), e.toString());
        }
        ShimClient client = null;
        try {
            client = ShimClient.connect(ctx.loop(), socket, launch.namespace(), RuntimeContext.CONNECT_TIMEOUT);
            ConnectResponse connected = ShimClient.await(client.connect(
                    ConnectRequest.newBuilder().setId(launch.id()).build(), RuntimeContext.CONNECT_TIMEOUT));
            return new OwnShim(ctx, shimBinary, launch, socket, client, connected, shimLog,
                    bundle.shimGroup().orElse(null));
        } catch (RuntimeException e) {
            if (client != null) {
                client.close();
            }
            if (shimLog != null) {
                shimLog.close();
            }
            throw e;
        }
    }

    private static String loggerName(ShimLauncher.Context launch) {
        return "dev.berth.runtime.shim." + launch.namespace() + "." + launch.id();
    }

    /** A shim that is alive but does not answer would live forever: find it by its command line. */
    static void killLeftovers(RuntimeContext ctx, Path shimBinary, ShimLauncher.Context launch) {
        for (long p : ProcFs.shimProcesses(shimBinary, launch.namespace(), launch.id(), ctx.grpcAddress())) {
            log.warn("killing unresponsive shim {} of {}/{}", p, launch.namespace(), launch.id());
            ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    static void removeSocket(Path socket) {
        if (socket != null) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                log.warn("cannot remove shim socket {}: {}", socket, e.toString());
            }
        }
    }

    @Override
    public ShimClient client() {
        return client;
    }

    @Override
    public ConnectResponse connect() {
        return connected;
    }

    /**
     * Whether the shim serves tasks of the group other than this one: a shim found with that, or without
     * knowing, is left running (the runc shim exits by itself at the {@code Shutdown} after the delete of
     * its last container).
     */
    private boolean sharedWithOthers() {
        return group != null && ShimGroup.hasOtherTasks(ctx.tasksDir(), launch.namespace(), launch.id(), group);
    }

    /** Whether a shim of a task of {@code bundle}'s group other than the task itself may be running. */
    static boolean sharedWithOthers(RuntimeContext ctx, Bundle bundle, ShimLauncher.Context launch) {
        return bundle.shimGroup().map(g -> ShimGroup.hasOtherTasks(ctx.tasksDir(), launch.namespace(), launch.id(), g))
                .orElse(false);
    }

    /**
     * Asks the shim to exit ({@code Shutdown}), then makes sure it is gone and its socket removed. The
     * shim of a group that still serves other tasks ignores the {@code Shutdown}; it is left alone.
     */
    @Override
    public void release(boolean now) {
        if (client != null) {
            if (client.isOpen()) {
                try {
                    ShimClient.await(client.shutdown(ShutdownRequest.newBuilder().setId(launch.id()).setNow(now)
                            .build(), RuntimeContext.SHUTDOWN_TIMEOUT));
                } catch (BerthException e) {
                    // The shim usually exits before answering; the connection then closes under the call.
                    log.debug("shutdown of shim {}/{}: {}", launch.namespace(), launch.id(), e.toString());
                }
            }
            client.close();
        }
        if (sharedWithOthers()) {
            closeLog();
            return;
        }
        int pid = connected == null ? 0 : connected.getShimPid();
        if (pid > 0) {
            try {
                if (!ProcFs.awaitGone(pid, 2_000)) {
                    log.warn("shim {} of {}/{} did not exit after shutdown; killing it", pid, launch.namespace(),
                            launch.id());
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                    ProcFs.awaitGone(pid, 2_000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        removeSocket(socket);
        closeLog();
    }

    @Override
    public void detach() {
        client.close();
        closeLog();
    }

    @Override
    public void abandon() {
        client.close();
        if (sharedWithOthers()) {
            closeLog();
            return;
        }
        killLeftovers(ctx, shimBinary, launch);
        removeSocket(socket);
        closeLog();
    }

    private void closeLog() {
        if (shimLog != null) {
            shimLog.close();
        }
    }
}
