package dev.berth.runtime.internal;

import dev.berth.api.BerthException;
import dev.berth.runtime.internal.proto.task.ConnectRequest;
import dev.berth.runtime.internal.proto.task.ShutdownRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One shim process serving several tasks of a namespace, as containerd's shim grouping does (the runc
 * shim keeps a map of containers and answers for each by id). It is started for no task in particular:
 * its "bundle" is a home directory {@code <state>/shims/<ns>/<shim id>} holding a minimal
 * {@code config.json} (with the {@code io.containerd.runc.v2.group} annotation naming the shim), the shim's
 * {@code log} FIFO and the {@code address} it writes; tasks keep their own bundles and name the shim
 * with an {@code address} file and a {@code berth-shared-shim} file (the home directory), which is how a
 * later runtime finds the shim again.
 *
 * <p>Counted by the tasks using it. When the last one is deleted the shim either stops (Shutdown RPC,
 * process gone, socket and home removed) or, if reusable, stays warm for the runtime's idle period so the
 * next task skips the shim's start; while idle it is registered with the session reaper, so a JVM that
 * dies does not leave it behind.
 */
final class SharedShim {
    private static final Logger log = LoggerFactory.getLogger(SharedShim.class);
    static final String GROUP_ANNOTATION = "io.containerd.runc.v2.group";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final RuntimeContext ctx;
    private final SharedShimPool pool;
    /** What tasks must agree on to share it; null for a shim found again after a restart (not reused). */
    private final String key;
    private final String namespace;
    private final String id;
    private final Bundle home;
    private final Path shimBinary;
    private final boolean privateCgroup2;
    private final Path socket;
    private final ShimClient client;
    private final int pid;
    private final ShimLog shimLog;
    private int users;
    /** Launched as a spare for one task: stops with the task that took it, never shared. */
    private volatile boolean singleUse;
    /** The runtime options it was started with (for a spare launched like it); empty if found again. */
    private byte[] options = new byte[0];
    private final java.util.concurrent.atomic.AtomicInteger creating = new java.util.concurrent.atomic.AtomicInteger();
    private boolean retired;
    private boolean stopping;
    /** Registered with the session reaper: idle (spare or warm), or serving a session-scoped task. */
    private boolean reaperRegistered;
    /** Handed over as the shim of the shim group named after it ({@link #handOverAsGroup}): no longer the runtime's. */
    private boolean handedOver;
    private ScheduledFuture<?> idleStop;
    /** This runtime's claim on the shim: another runtime on the state directory leaves it alone. */
    private volatile TaskLocks.Held homeLock;

    private SharedShim(RuntimeContext ctx, SharedShimPool pool, String key, String namespace, String id, Bundle home, Path shimBinary,
                       boolean privateCgroup2, Path socket, ShimClient client, int pid, ShimLog shimLog, int users) {
        this.ctx = ctx;
        this.pool = pool;
        this.key = key;
        this.namespace = namespace;
        this.id = id;
        this.home = home;
        this.shimBinary = shimBinary;
        this.privateCgroup2 = privateCgroup2;
        this.socket = socket;
        this.client = client;
        this.pid = pid;
        this.shimLog = shimLog;
        this.users = users;
        client.closeFuture().thenRun(this::lost);
    }

    /** Starts a shim for tasks of {@code namespace} agreeing on {@code key}, with one user: the caller. */
    static SharedShim start(RuntimeContext ctx, SharedShimPool pool, String key, String namespace, Path shimBinary,
                            boolean privateCgroup2, byte[] options) {
        return start(ctx, pool, key, namespace, shimBinary, privateCgroup2, options, false);
    }

    /**
     * With {@code spare}: started with no users, as a spare ({@link SharedShimPool#acquireOwn}), registered
     * with the session reaper before its process exists, so a JVM dying while it starts still gets it reaped.
     */
    static SharedShim start(RuntimeContext ctx, SharedShimPool pool, String key, String namespace, Path shimBinary,
                            boolean privateCgroup2, byte[] options, boolean spare) {
        byte[] r = new byte[6];
        RANDOM.nextBytes(r);
        String id = "berth-shim-" + HexFormat.of().formatHex(r);
        String spec = "{\"ociVersion\":\"1.0.2\",\"annotations\":{\"" + GROUP_ANNOTATION + "\":\"" + id + "\"}}";
        TaskLocks.Held claim = ctx.shimLocks().lock(namespace, id);
        Bundle home;
        try {
            home = Bundle.create(ctx.shimsDir(), namespace, id, spec.getBytes(StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            claim.taskGone();
            claim.close();
            throw e;
        }
        ShimLog shimLog = null;
        Path socket = null;
        ShimClient client = null;
        try {
            shimLog = ShimLog.start(home.log(), "dev.berth.runtime.shim." + namespace + "." + id, ctx.ioThreads());
            if (privateCgroup2) {
                home.markPrivateCgroup2();
            }
            home.writeShimBinaryPath(shimBinary);
            if (spare) {
                ctx.sessions().register(new SessionReaper.Target(namespace, id, home.dir(), shimBinary,
                        ctx.grpcAddress(), home.dir().resolve("fifo"), privateCgroup2));
            }
            socket = ctx.launcher().start(shimBinary, ctx.shimContext(namespace, id, home.dir(), privateCgroup2),
                    options);
            client = ShimClient.connect(ctx.loop(), socket, namespace, RuntimeContext.CONNECT_TIMEOUT);
            int pid = ShimClient.await(client.connect(ConnectRequest.newBuilder().setId(id).build(),
                    RuntimeContext.CONNECT_TIMEOUT)).getShimPid();
            log.debug("started shared shim {} (pid {}) for {}", id, pid, namespace);
            SharedShim shim = new SharedShim(ctx, pool, key, namespace, id, home, shimBinary, privateCgroup2, socket,
                    client, pid, shimLog, 1);
            shim.homeLock = claim;
            shim.options = options.clone();
            if (spare) {
                shim.singleUse = true;
                shim.users = 0;
                shim.reaperRegistered = true;
            }
            return shim;
        } catch (RuntimeException | IOException e) {
            if (spare) {
                ctx.sessions().unregister(namespace, id);
            }
            claim.taskGone();
            claim.close();
            if (client != null) {
                client.close();
            }
            for (long p : ProcFs.shimProcesses(shimBinary, namespace, id, ctx.grpcAddress())) {
                ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly);
            }
            if (shimLog != null) {
                shimLog.close();
            }
            removeQuietly(socket, home);
            if (e instanceof IOException io) {
                throw new BerthException("cannot start a shared shim in " + namespace + ": " + io.getMessage(), io);
            }
            throw (RuntimeException) e;
        }
    }

    /**
     * Connects again to the shim whose home a previous runtime left, or returns null (after removing what
     * is left of it) if it no longer answers. It starts with no users; tasks found again attach to it.
     */
    static SharedShim reconnect(RuntimeContext ctx, SharedShimPool pool, String namespace, Bundle home) {
        String id = home.dir().getFileName().toString();
        Path shimBinary = home.shimBinaryPath().orElse(null);
        Path socket = home.socket().orElse(null);
        ShimLog shimLog = null;
        ShimClient client = null;
        try {
            if (socket == null) {
                throw new BerthException("no address");
            }
            try {
                shimLog = ShimLog.start(home.log(), "dev.berth.runtime.shim." + namespace + "." + id, ctx.ioThreads());
            } catch (IOException e) {
                log.debug("no log for shared shim {}: {}", id, e.toString());
            }
            client = ShimClient.connect(ctx.loop(), socket, namespace, RuntimeContext.CONNECT_TIMEOUT);
            int pid = ShimClient.await(client.connect(ConnectRequest.newBuilder().setId(id).build(),
                    RuntimeContext.CONNECT_TIMEOUT)).getShimPid();
            log.debug("reconnected to shared shim {} (pid {}) of {}", id, pid, namespace);
            return new SharedShim(ctx, pool, null, namespace, id, home, shimBinary, home.privateCgroup2(), socket, client,
                    pid, shimLog, 0);
        } catch (RuntimeException e) {
            log.info("shared shim {} of {} is unreachable ({}); removing it", id, namespace, e.getMessage());
            if (client != null) {
                client.close();
            }
            if (shimBinary != null) {
                for (long p : ProcFs.shimProcesses(shimBinary, namespace, id, ctx.grpcAddress())) {
                    ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
            if (shimLog != null) {
                shimLog.close();
            }
            removeQuietly(socket, home);
            return null;
        }
    }

    String id() {
        return id;
    }

    /** Marks a shim started for one task alone (no spare was ready): it stops with that task. */
    void singleUse() {
        singleUse = true;
    }

    /** The spare became the shim of the task in {@code taskBundle}: recorded in its home for later runtimes. */
    void serve(Path taskBundle) throws IOException {
        home.writeServedTask(taskBundle);
    }

    boolean isSingleUse() {
        return singleUse;
    }

    String namespace() {
        return namespace;
    }

    Path shimBinary() {
        return shimBinary;
    }

    boolean privateCgroup2() {
        return privateCgroup2;
    }

    byte[] options() {
        return options.clone();
    }

    String key() {
        return key;
    }

    Path home() {
        return home.dir();
    }

    Path socket() {
        return socket;
    }

    ShimClient client() {
        return client;
    }

    int pid() {
        return pid;
    }

    /** Create calls in flight. */
    int creating() {
        return creating.get();
    }

    void createStarted() {
        creating.incrementAndGet();
    }

    void createDone() {
        creating.decrementAndGet();
    }

    synchronized int users() {
        return users;
    }

    /** Adds a user, unless the shim is stopping or gone. */
    synchronized boolean attach() {
        return attach(false);
    }

    /**
     * Adds a user, unless the shim is stopping or gone. {@code reapedWithTask}: the user is a session-scoped
     * task, so the shim stays registered with the session reaper (or is registered now) and goes with the
     * task when the JVM does; the task's own registration removes the container, this one the shim and its
     * home. Otherwise a shim serving a task outlives the JVM, as the task does.
     */
    synchronized boolean attach(boolean reapedWithTask) {
        if (retired || !client.isOpen()) {
            return false;
        }
        users++;
        if (idleStop != null) {
            idleStop.cancel(false);
            idleStop = null;
        }
        if (reapedWithTask && !reaperRegistered) {
            ctx.sessions().registerQuietly(new SessionReaper.Target(namespace, id, home.dir(), shimBinary,
                    ctx.grpcAddress(), home.dir().resolve("fifo"), privateCgroup2));
            reaperRegistered = true;
        } else if (!reapedWithTask && reaperRegistered) {
            reaperRegistered = false;
            ctx.sessions().unregister(namespace, id);
        }
        return true;
    }

    /**
     * Removes a user. The last one stops the shim, or leaves it warm for the runtime's idle period if it
     * can serve more tasks.
     */
    void detach() {
        Duration idle = pool.idleTimeout();
        boolean stopNow;
        synchronized (this) {
            users--;
            if (users > 0 || retired || pool.isReconnecting()) {
                return;
            }
            stopNow = key == null || singleUse || !client.isOpen() || idle.isZero() || !pool.isOpen();
            if (stopNow) {
                retired = true;
            } else {
                // A JVM that dies now must not leave an idle shim behind: the session reaper stops it then.
                ctx.sessions().registerQuietly(new SessionReaper.Target(namespace, id, home.dir(), shimBinary,
                        ctx.grpcAddress(), home.dir().resolve("fifo"), privateCgroup2));
                reaperRegistered = true;
                idleStop = ctx.scheduler().schedule(this::stopIfIdle, idle.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
        if (stopNow) {
            if (singleUse) {
                // nothing waits for a one-task shim's exit: off the deleting caller's path (registered with
                // the session reaper until it is gone), and the next task's spare is launched now, while the
                // caller goes on (not while a create runs)
                ctx.sessions().registerQuietly(new SessionReaper.Target(namespace, id, home.dir(), shimBinary,
                        ctx.grpcAddress(), home.dir().resolve("fifo"), privateCgroup2));
                pool.stopLater(this);
                pool.launchSpareLike(this);
            } else {
                stop();
            }
        }
    }

    private void stopIfIdle() {
        synchronized (this) {
            if (users > 0 || retired) {
                return;
            }
            retired = true;
        }
        stop();
    }

    /**
     * Hands this spare over as the shim of a new shim group named {@link #id()} (its home's config names that
     * group): tasks whose spec names the group find it through the shim's {@code start} (its socket answers),
     * and it stops as a group's shim does, at the {@code Shutdown} after its last task's delete, or at
     * {@link #endGroup} if no task came. From now on it outlives the JVM as its tasks do (no session reaper);
     * its home, marked, stays until the shim is gone (a later runtime removes it if the group has tasks, else
     * stops the shim). False (nothing changed) if it is stopping or gone.
     */
    boolean handOverAsGroup() {
        synchronized (this) {
            if (retired || stopping || users > 0 || !client.isOpen()) {
                return false;
            }
            try {
                home.markGroupShim();
            } catch (IOException | RuntimeException e) {
                log.debug("cannot hand over spare shim {}: {}", id, e.toString());
                return false;
            }
            retired = true;
            handedOver = true;
            singleUse = false;
            if (idleStop != null) {
                idleStop.cancel(false);
                idleStop = null;
            }
            if (reaperRegistered) {
                reaperRegistered = false;
                ctx.sessions().unregister(namespace, id);
            }
        }
        pool.forget(this);
        return true;
    }

    /**
     * The handed-over shim's group takes no new tasks: a {@code Shutdown}, which the runc shim ignores while
     * it serves a container and obeys (exits) when it serves none, so a group no task came to leaves no shim.
     * Off the caller's thread.
     */
    void endGroup() {
        try {
            ctx.ioThreads().execute(() -> {
                if (!client.isOpen()) {
                    return;
                }
                try {
                    ShimClient.await(client.shutdown(ShutdownRequest.newBuilder().setId(id).build(),
                            RuntimeContext.SHUTDOWN_TIMEOUT));
                } catch (BerthException e) {
                    log.debug("shutdown of group shim {}: {}", id, e.toString());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            log.debug("group shim {} not shut down: the runtime is closed", id);
        }
    }

    /** The runtime closes: a handed-over shim keeps running for its tasks; its marked home stays for a later runtime. */
    void detachHandedOver() {
        synchronized (this) {
            stopping = true;
        }
        client.close();
        if (shimLog != null) {
            shimLog.close();
        }
        releaseHome(false);
    }

    /** The runtime closes: an idle shim stops; one still serving tasks keeps running without this JVM. */
    void closeForRuntime() {
        boolean idle;
        synchronized (this) {
            // a retired shim with no users is stopping, or queued to (stopLater): stop() is idempotent
            idle = users == 0;
            retired = true;
            if (idleStop != null) {
                idleStop.cancel(false);
            }
        }
        if (idle) {
            stop();
        } else {
            detachHandedOver(); // let go of it as of a handed-over one: it keeps serving its tasks
        }
    }

    void claim(TaskLocks.Held held) {
        homeLock = held;
    }

    /** Lets go of this runtime's claim; {@code gone}: the shim and its home are no more. */
    private void releaseHome(boolean gone) {
        TaskLocks.Held h = homeLock;
        homeLock = null;
        if (h != null) {
            if (gone) {
                h.taskGone();
            }
            h.close();
        }
    }

    /** Shutdown RPC, then makes sure the process is gone, its socket and home removed. */
    void stop() {
        synchronized (this) {
            if (stopping) {
                return;
            }
            stopping = true;
        }
        pool.forget(this);
        ctx.sessions().unregister(namespace, id);
        if (client.isOpen()) {
            try {
                ShimClient.await(client.shutdown(ShutdownRequest.newBuilder().setId(id).build(), RuntimeContext.SHUTDOWN_TIMEOUT));
            } catch (BerthException e) {
                // The shim usually exits before answering; the connection then closes under the call.
                log.debug("shutdown of shared shim {}: {}", id, e.toString());
            }
        }
        client.close();
        try {
            if (!ProcFs.awaitGone(pid, 2_000)) {
                log.warn("shared shim {} (pid {}) did not exit after shutdown; killing it", id, pid);
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                ProcFs.awaitGone(pid, 2_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (shimLog != null) {
            shimLog.close();
        }
        removeQuietly(socket, home);
        releaseHome(true);
    }

    /**
     * The connection dropped without us asking: the shim died. Each task it served sees the same close and
     * cleans up after itself (the shim's delete action, an exit status); this removes the shim's own rest.
     */
    private void lost() {
        boolean group;
        synchronized (this) {
            if (stopping) {
                return;
            }
            stopping = true;
            retired = true;
            if (idleStop != null) {
                idleStop.cancel(false);
            }
            group = handedOver;
        }
        if (group) {
            // a group's shim ends with its last task (or endGroup): once its process is gone, its home goes
            pool.forgetGroup(this);
            ctx.ioThreads().execute(() -> {
                boolean gone;
                try {
                    gone = ProcFs.awaitGone(pid, 5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    gone = false;
                }
                if (shimLog != null) {
                    shimLog.close();
                }
                if (gone) {
                    removeQuietly(socket, home);
                    releaseHome(true);
                } else {
                    log.warn("group shim {} (pid {}) closed its connection but still runs; its home stays", id, pid);
                    releaseHome(false);
                }
            });
            return;
        }
        log.warn("shared shim {} (pid {}) of {} exited unexpectedly", id, pid, namespace);
        pool.forget(this);
        ctx.sessions().unregister(namespace, id);
        ctx.ioThreads().execute(() -> {
            if (ProcFs.isRunning(pid)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            if (shimLog != null) {
                shimLog.close();
            }
            removeQuietly(socket, home);
            releaseHome(true);
        });
    }

    private static void removeQuietly(Path socket, Bundle home) {
        OwnShim.removeSocket(socket);
        try {
            home.delete();
        } catch (IOException e) {
            log.warn("cannot remove shared shim directory {}: {}", home.dir(), e.toString());
        }
    }

    @Override
    public String toString() {
        return "SharedShim[" + namespace + "/" + id + ", pid " + pid + "]";
    }
}
