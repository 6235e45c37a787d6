package dev.berth.runtime.internal;

import dev.berth.api.ClosedException;
import dev.berth.api.UnavailableException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The runtime's {@link SharedShim}s: those taking new tasks, by what their tasks agree on, and those found again. */
final class SharedShimPool {
    private static final Logger log = LoggerFactory.getLogger(SharedShimPool.class);
    /** Shared shims per namespace and runtime options, at most. */
    private static final int MAX_SHARED_SHIMS = Math.max(1, Runtime.getRuntime().availableProcessors());

    private final RuntimeContext ctx;
    private final Duration idleTimeout;
    private final ConcurrentMap<String, List<SharedShim>> pools = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Object> poolLocks = new ConcurrentHashMap<>();
    /** Every live shared shim (also those found again after a restart), by home directory. */
    private final ConcurrentMap<Path, SharedShim> shims = new ConcurrentHashMap<>();
    private volatile boolean closed;
    /** The one spare shim, launched ahead of need for the next task that wants its own shim. */
    private SharedShim spare;
    /** The spare's launch in progress, if any; waited for by close. */
    private java.util.concurrent.CompletableFuture<Void> spareLaunch;
    private String spareLaunchKey;
    /** Single-use shims stopping off their task's path; waited for by close. */
    private final java.util.Set<java.util.concurrent.CompletableFuture<Void>> stopping =
            java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Spares handed over as shim groups' shims, by group, until their process is gone. */
    private final ConcurrentMap<String, SharedShim> groupShims = new ConcurrentHashMap<>();
    /** While tasks are found again, a shared shim none of them has attached to yet must not stop. */
    private volatile boolean reconnecting;

    SharedShimPool(RuntimeContext ctx, Duration idleTimeout) {
        this.ctx = ctx;
        this.idleTimeout = idleTimeout;
    }

    Duration idleTimeout() {
        return idleTimeout;
    }

    boolean isOpen() {
        return !closed;
    }

    boolean isReconnecting() {
        return reconnecting;
    }

    /**
     * A shared shim for a task of {@code namespace}, with the caller counted as a user and as a create in
     * flight (the caller ends that with {@link SharedShim#createDone()}): one of those serving tasks that
     * agree on the shim binary, options and cgroup setting, or a new one.
     */
    SharedShim acquire(String namespace, Path shimBinary, boolean privateCgroup2, byte[] options) {
        String key = key(namespace, shimBinary, privateCgroup2, options);
        synchronized (poolLocks.computeIfAbsent(key, k -> new Object())) {
            List<SharedShim> pool = pools.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>());
            // The runc shim creates one container at a time: while every shim is busy creating, another
            // shim (up to one per CPU) lets concurrent creates run in parallel.
            SharedShim best = null;
            for (SharedShim shim : pool) {
                if (best == null || shim.creating() < best.creating()) {
                    best = shim;
                }
            }
            if (best != null && (best.creating() == 0 || pool.size() >= MAX_SHARED_SHIMS) && best.attach()) {
                best.createStarted();
                return best;
            }
            if (closed) {
                throw new ClosedException("task runtime on " + ctx.stateDir());
            }
            SharedShim shim = SharedShim.start(ctx, this, key, namespace, shimBinary, privateCgroup2, options);
            shim.createStarted();
            pool.add(shim);
            shims.put(shim.home(), shim);
            return shim;
        }
    }

    private static String key(String namespace, Path shimBinary, boolean privateCgroup2, byte[] options) {
        return namespace + "\n" + shimBinary + "\n" + privateCgroup2 + "\n" + HexFormat.of().formatHex(options);
    }

    /**
     * A shim of the task's own, as without sharing: the spare if one for the same namespace, binary,
     * options and cgroup setting is ready (its start was paid ahead), else one started now. The caller is
     * its one user and a create in flight; the shim stops when that task lets go of it, and a spare for the
     * next such task is launched then ({@link #launchSpareLike}). {@code reapedWithTask}: for a
     * session-scoped task, whose shim the session reaper must stop with it ({@link SharedShim#attach(boolean)}).
     */
    SharedShim acquireOwn(String namespace, Path shimBinary, boolean privateCgroup2, byte[] options,
                          boolean reapedWithTask) {
        String key = key(namespace, shimBinary, privateCgroup2, options);
        java.util.concurrent.CompletableFuture<Void> launching = null;
        synchronized (this) {
            if (closed) {
                throw new ClosedException("task runtime on " + ctx.stateDir());
            }
            if (spare == null && spareLaunch != null && !spareLaunch.isDone() && key.equals(spareLaunchKey)) {
                launching = spareLaunch;
            }
        }
        if (launching != null) {
            // the spare for this key is on its way: it is ready sooner than a shim started now
            try {
                launching.get(ShimLauncher.START_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                log.debug("spare launch for {} not awaited: {}", namespace, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new dev.berth.api.CanceledException("interrupted while waiting for a spare shim");
            }
        }
        SharedShim taken = takeSpare(key);
        if (taken != null && !taken.attach(reapedWithTask)) {
            taken = null; // it died while waiting
        }
        if (taken == null) {
            if (reapedWithTask) {
                // registered with the reaper before its process exists, as a spare is
                taken = SharedShim.start(ctx, this, key, namespace, shimBinary, privateCgroup2, options, true);
                if (!taken.attach(true)) {
                    taken.stop();
                    throw new UnavailableException("shim " + taken.home() + " exited right after its start");
                }
            } else {
                taken = SharedShim.start(ctx, this, key, namespace, shimBinary, privateCgroup2, options);
                taken.singleUse();
            }
            shims.put(taken.home(), taken);
        }
        taken.createStarted();
        return taken;
    }

    /** The spare if it serves tasks with settings {@code key} (it is then no longer the spare), else null. */
    private synchronized SharedShim takeSpare(String key) {
        if (closed) {
            throw new ClosedException("task runtime on " + ctx.stateDir());
        }
        SharedShim taken = null;
        if (spare != null && spare.key().equals(key)) {
            taken = spare;
            spare = null;
        }
        return taken;
    }

    /**
     * The spare for tasks with these settings, if one is ready, handed over as the shim of a new shim group:
     * returns the group's name, which the group's tasks put in their spec ({@link SharedShim#GROUP_ANNOTATION}).
     * The next spare is launched when the caller asks ({@link #prepareSpare}: e.g. once the group's first
     * task runs, so that the launch does not compete with its create), or at once if none was ready.
     */
    Optional<String> takeSpareAsGroup(String namespace, Path shimBinary, boolean privateCgroup2, byte[] options) {
        String key = key(namespace, shimBinary, privateCgroup2, options);
        SharedShim taken = takeSpare(key);
        if (taken != null) {
            // registered first: a shim that dies right after its hand-over is forgotten again (forgetGroup)
            groupShims.put(taken.id(), taken);
            if (!taken.handOverAsGroup()) {
                groupShims.remove(taken.id(), taken);
                stopLater(taken); // stopping or gone already: stop() is idempotent
                taken = null;
            }
        }
        if (taken == null) {
            launchSpare(key, namespace, shimBinary, privateCgroup2, options);
            return Optional.empty();
        }
        return Optional.of(taken.id());
    }

    /** Group {@code group} takes no new tasks: its handed-over shim stops if it serves none; else nothing. */
    void endGroup(String group) {
        SharedShim shim = groupShims.get(group);
        if (shim != null) {
            shim.endGroup();
        }
    }

    /** The live spare handed over as {@code group}'s shim, or null. */
    SharedShim groupShim(String group) {
        return groupShims.get(group);
    }

    /** A handed-over shim is gone (its connection closed). */
    void forgetGroup(SharedShim shim) {
        groupShims.remove(shim.id(), shim);
    }

    /** Launches a spare for tasks with these settings now, unless one is ready or on its way. */
    void prepareSpare(String namespace, Path shimBinary, boolean privateCgroup2, byte[] options) {
        launchSpare(key(namespace, shimBinary, privateCgroup2, options), namespace, shimBinary, privateCgroup2,
                options);
    }

    /** Launches a spare like {@code used} (a single-use shim its task let go of), for the next task. */
    void launchSpareLike(SharedShim used) {
        launchSpare(used.key(), used.namespace(), used.shimBinary(), used.privateCgroup2(), used.options());
    }

    /** Starts the next spare on an I/O thread, unless one is ready or on its way; an older key's spare stops. */
    private void launchSpare(String key, String namespace, Path shimBinary, boolean privateCgroup2, byte[] options) {
        SharedShim old;
        java.util.concurrent.CompletableFuture<Void> launch;
        synchronized (this) {
            if (closed || (spare != null && spare.key().equals(key)) || (spareLaunch != null && !spareLaunch.isDone())) {
                return;
            }
            old = spare;
            spare = null;
            launch = new java.util.concurrent.CompletableFuture<>();
            spareLaunch = launch;
            spareLaunchKey = key;
        }
        if (old != null) {
            stopLater(old);
        }
        try {
            ctx.ioThreads().execute(() -> {
                try {
                    SharedShim s = SharedShim.start(ctx, this, key, namespace, shimBinary, privateCgroup2, options,
                            true);
                    shims.put(s.home(), s);
                    boolean keep;
                    synchronized (this) {
                        keep = !closed;
                        if (keep) {
                            spare = s;
                        }
                    }
                    if (!keep) {
                        s.stop();
                    }
                } catch (RuntimeException e) {
                    log.debug("no spare shim for {}: {}", namespace, e.toString());
                } finally {
                    launch.complete(null);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            launch.complete(null);
        }
    }

    /** Stops {@code shim} on an I/O thread (or here, if none takes work any more); close waits for it. */
    void stopLater(SharedShim shim) {
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        stopping.add(done);
        try {
            ctx.ioThreads().execute(() -> {
                try {
                    shim.stop();
                } finally {
                    done.complete(null);
                    stopping.remove(done);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            try {
                shim.stop();
            } finally {
                done.complete(null);
                stopping.remove(done);
            }
        }
    }

    void forget(SharedShim shim) {
        if (shim.key() != null) {
            List<SharedShim> pool = pools.get(shim.key());
            if (pool != null) {
                pool.remove(shim);
            }
        }
        shims.remove(shim.home(), shim);
    }

    /** The live shared shim whose home is {@code home}, found again at start-up, if it answered. */
    SharedShim reconnected(Path home) {
        return shims.get(home);
    }

    /**
     * Connects to the shared shims a previous runtime left, then runs {@code reconnectTasks} (whose tasks
     * attach to them) and stops those no task came back to: they were idle when their runtime went away.
     */
    void reconnect(Runnable reconnectTasks) {
        Path shimsDir = ctx.shimsDir();
        if (Files.isDirectory(shimsDir)) {
            for (Path nsDir : TaskRecovery.list(shimsDir)) {
                for (Path dir : TaskRecovery.list(nsDir)) {
                    try {
                        if (dir.getFileName().toString().startsWith(".")) {
                            Bundle.removeRecursively(dir);
                            continue;
                        }
                        // A shim another live runtime uses is its business (its tasks are skipped too).
                        String namespace = nsDir.getFileName().toString();
                        TaskLocks.Held claim = ctx.shimLocks().tryLock(namespace, dir.getFileName().toString())
                                .orElse(null);
                        if (claim == null) {
                            continue;
                        }
                        if (Bundle.at(dir).groupShim() && ShimGroup.hasOtherTasks(ctx.tasksDir(), namespace, "",
                                dir.getFileName().toString())) {
                            // a spare handed over as a shim group's shim: the group's tasks reach it through
                            // their bundles; its home is no longer needed (a group without tasks is stopped below)
                            claim.taskGone();
                            claim.close();
                            Bundle.removeRecursively(dir);
                            continue;
                        }
                        if (servesATask(Bundle.at(dir))) {
                            // a spare that became a task's own shim: the task's recovery reaches it
                            claim.close();
                            continue;
                        }
                        // idle shared shims and unused spares of runtimes gone (stopped below if no task
                        // comes back), and spares whose task is gone
                        SharedShim shim = SharedShim.reconnect(ctx, this, namespace, Bundle.at(dir));
                        if (shim != null) {
                            shim.claim(claim);
                            shims.put(shim.home(), shim);
                        } else {
                            claim.taskGone();
                            claim.close();
                        }
                    } catch (IOException | RuntimeException e) {
                        log.warn("cannot recover shared shim {}: {}", dir, e.toString());
                    }
                }
            }
        }
        reconnecting = true;
        try {
            reconnectTasks.run();
        } finally {
            reconnecting = false;
            for (SharedShim shim : List.copyOf(shims.values())) {
                if (shim.users() == 0) {
                    shim.stop();
                }
            }
        }
    }

    /** Whether {@code home} is a spare's that became the shim of a task still there (its bundle names it). */
    private static boolean servesATask(Bundle home) {
        Optional<Path> task = home.servedTask();
        if (task.isEmpty() || !Files.isDirectory(task.get())) {
            return false;
        }
        try {
            return Bundle.at(task.get()).sharedShim().filter(home.dir()::equals).isPresent();
        } catch (RuntimeException e) {
            return true; // unreadable: leave it to the task's recovery rather than stop a task's shim
        }
    }

    /** Idle shims stop; those still serving tasks keep running without this JVM. */
    void close() {
        java.util.concurrent.CompletableFuture<Void> launch;
        synchronized (this) {
            closed = true;
            launch = spareLaunch;
        }
        // a spare being launched is stopped by its launcher once it sees closed; wait for that
        if (launch != null) {
            try {
                launch.get(35, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("spare shim launch did not finish: {}", e.toString());
            }
        }
        for (SharedShim shim : List.copyOf(shims.values())) {
            shim.closeForRuntime();
        }
        shims.clear();
        for (SharedShim shim : List.copyOf(groupShims.values())) {
            shim.detachHandedOver();
        }
        groupShims.clear();
        pools.clear();
        for (java.util.concurrent.CompletableFuture<Void> f : List.copyOf(stopping)) {
            try {
                f.get(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("a shim still stopping at close: {}", e.toString());
            }
        }
    }
}
