package dev.berth.runtime.internal;

import dev.berth.api.ClosedException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
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
        String key = namespace + "\n" + shimBinary + "\n" + privateCgroup2 + "\n" + HexFormat.of().formatHex(options);
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

    /** Idle shims stop; those still serving tasks keep running without this JVM. */
    void close() {
        closed = true;
        for (SharedShim shim : List.copyOf(shims.values())) {
            shim.closeForRuntime();
        }
        shims.clear();
        pools.clear();
    }
}
