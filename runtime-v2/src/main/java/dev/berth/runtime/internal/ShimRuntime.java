package dev.berth.runtime.internal;

import com.google.protobuf.Empty;
import dev.berth.api.AlreadyExistsException;
import dev.berth.api.ClosedException;
import dev.berth.api.IoFailureException;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.Event;
import dev.berth.api.event.Events;
import dev.berth.api.event.TaskEvent;
import dev.berth.runtime.ExitStatus;
import dev.berth.runtime.RunResult;
import dev.berth.runtime.Stdio;
import dev.berth.runtime.Task;
import dev.berth.runtime.TaskConfig;
import dev.berth.runtime.TaskRuntime;
import dev.berth.runtime.internal.proto.eventsvc.ForwardRequest;
import dev.berth.runtime.ttrpc.internal.EpollLoop;
import dev.berth.runtime.ttrpc.internal.TtrpcServer;
import io.netty.channel.EventLoopGroup;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link TaskRuntime} over runtime-v2 shim binaries. */
public final class ShimRuntime implements TaskRuntime {
    private static final Logger log = LoggerFactory.getLogger(ShimRuntime.class);
    /** Shared shims per namespace and runtime options, at most. */
    private static final int MAX_SHARED_SHIMS = Math.max(1, Runtime.getRuntime().availableProcessors());
    public static final String EVENTS_SERVICE = "containerd.services.events.ttrpc.v1.Events";
    /**
     * containerd passes its own binary for legacy shims to run {@code publish} with; Berth has none and
     * runc v2 shims publish over ttrpc, so a binary that does nothing is the honest answer.
     */
    private static final Path PUBLISH_BINARY = Path.of("/bin/false");

    private final RuntimeSettings settings;
    private final Path stateDir;
    private final EpollLoop loop;
    private final ExecutorService ioThreads;
    private final Executor callbackExecutor;
    private final TtrpcServer eventsServer;
    private final ShimBinaries binaries;
    private final ShimLauncher launcher;
    private final ConcurrentMap<String, ShimTask> tasks = new ConcurrentHashMap<>();
    /** Tasks being deleted, until their shim's {@code /tasks/delete} event has been published. */
    private final ConcurrentMap<String, CompletableFuture<Void>> deleteEvents = new ConcurrentHashMap<>();
    /** Shared shims taking new tasks, by what their tasks agree on. */
    private final ConcurrentMap<String, List<SharedShim>> sharedPools = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Object> sharedPoolLocks = new ConcurrentHashMap<>();
    /** Every live shared shim (also those found again after a restart), by home directory. */
    private final ConcurrentMap<Path, SharedShim> sharedShims = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler;
    private final java.util.Set<Path> pendingRemovals = ConcurrentHashMap.newKeySet();
    private final StateLock lock;
    private final Object reaperLock = new Object();
    private volatile SessionReaper reaper;
    private volatile boolean closed;
    /** While tasks are found again, a shared shim none of them has attached to yet must not stop. */
    private volatile boolean reconnecting;

    public ShimRuntime(RuntimeSettings settings) {
        this.settings = settings;
        this.stateDir = settings.stateDir();
        try {
            Files.createDirectories(stateDir);
        } catch (IOException e) {
            throw IoFailureException.of("cannot create state directory " + stateDir, e);
        }
        // One runtime per state directory: it owns the events socket, and reconnecting or cleaning up
        // bundles another live runtime is still creating would destroy its tasks.
        this.lock = StateLock.acquire(stateDir);
        AtomicInteger n = new AtomicInteger();
        this.ioThreads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "berth-runtime-io-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.callbackExecutor = settings.executor().orElse(ioThreads);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "berth-runtime-timer");
            t.setDaemon(true);
            return t;
        });
        this.loop = EpollLoop.start("berth-ttrpc", 1);
        this.binaries = new ShimBinaries(settings.shimSearchPath());
        this.launcher = new ShimLauncher(ioThreads);
        try {
            this.eventsServer = TtrpcServer.builder()
                    .register(EVENTS_SERVICE, "Forward", (ctx, payload) -> {
                        forward(ForwardRequest.parseFrom(payload));
                        return Empty.getDefaultInstance().toByteArray();
                    })
                    .executor(ioThreads)
                    .bind(loop.group(), eventsSocket());
        } catch (RuntimeException e) {
            loop.close();
            ioThreads.shutdownNow();
            scheduler.shutdownNow();
            lock.close();
            throw e;
        }
        try {
            SessionReaper.reapOrphans(stateDir);
            reconnect();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Finds the tasks a previous runtime on this state directory left: every bundle whose shim answers
     * is watched again; the others are cleaned up with the shim's delete action and their exit published.
     */
    private void reconnect() {
        reconnectSharedShims();
        reconnecting = true;
        try {
            reconnectTasks();
        } finally {
            reconnecting = false;
            // Shared shims no task came back to were idle when their runtime went away.
            for (SharedShim shim : List.copyOf(sharedShims.values())) {
                if (shim.users() == 0) {
                    shim.stop();
                }
            }
        }
    }

    private void reconnectSharedShims() {
        Path shimsDir = shimsDir();
        if (!Files.isDirectory(shimsDir)) {
            return;
        }
        for (Path nsDir : list(shimsDir)) {
            for (Path dir : list(nsDir)) {
                try {
                    if (dir.getFileName().toString().startsWith(".")) {
                        Bundle.removeRecursively(dir);
                        continue;
                    }
                    SharedShim shim = SharedShim.reconnect(this, nsDir.getFileName().toString(), Bundle.at(dir));
                    if (shim != null) {
                        sharedShims.put(shim.home(), shim);
                    }
                } catch (IOException | RuntimeException e) {
                    log.warn("cannot recover shared shim {}: {}", dir, e.toString());
                }
            }
        }
    }

    /** The live shared shim whose home is {@code home}, found again at start-up, if it answered. */
    SharedShim reconnectedShim(Path home) {
        return sharedShims.get(home);
    }

    private void reconnectTasks() {
        Path tasksDir = stateDir.resolve("tasks");
        if (!Files.isDirectory(tasksDir)) {
            return;
        }
        for (Path nsDir : list(tasksDir)) {
            String namespace = nsDir.getFileName().toString();
            if (namespace.startsWith(".") || !Files.isDirectory(nsDir)) {
                continue;
            }
            for (Path dir : list(nsDir)) {
                String id = dir.getFileName().toString();
                try {
                    if (id.startsWith(".")) {
                        // a bundle whose deletion was interrupted
                        Bundle.removeRecursively(dir);
                        continue;
                    }
                    load(namespace, id, Bundle.at(dir));
                } catch (IOException | RuntimeException e) {
                    log.warn("cannot recover task {}/{} from {}: {}", namespace, id, dir, e.toString());
                }
            }
        }
        Path fifos = stateDir.resolve("fifo");
        if (Files.isDirectory(fifos)) {
            for (Path nsDir : list(fifos)) {
                for (Path dir : list(nsDir)) {
                    if (!tasks.containsKey(key(nsDir.getFileName().toString(), dir.getFileName().toString()))) {
                        try {
                            Bundle.removeRecursively(dir);
                        } catch (IOException e) {
                            log.warn("cannot remove stale FIFOs {}: {}", dir, e.toString());
                        }
                    }
                }
            }
        }
    }

    private void load(String namespace, String id, Bundle bundle) throws IOException {
        if (!Files.exists(bundle.configJson())) {
            log.info("removing empty bundle {}", bundle.dir());
            bundle.delete();
            return;
        }
        Path shim = bundle.shimBinaryPath().filter(Files::isExecutable).orElse(null);
        if (shim == null) {
            try {
                shim = binaries.resolve(settings.defaultRuntime());
            } catch (RuntimeException e) {
                log.warn("bundle {} names no usable shim and the default runtime has none ({}); removing it",
                        bundle.dir(), e.getMessage());
                bundle.delete();
                return;
            }
        }
        ShimTask task = new ShimTask(this, namespace, id, bundle, shim, context(namespace, id, bundle, bundle.privateCgroup2()));
        tasks.put(key(namespace, id), task);
        task.reconnect();
    }

    private static List<Path> list(Path dir) {
        try (var entries = Files.list(dir)) {
            return entries.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    private ShimLauncher.Context context(String namespace, String id, Bundle bundle, boolean privateCgroup2) {
        return shimContext(namespace, id, bundle, privateCgroup2);
    }

    ShimLauncher.Context shimContext(String namespace, String id, Bundle bundle, boolean privateCgroup2) {
        return new ShimLauncher.Context(namespace, id, bundle.dir(), grpcAddress(), PUBLISH_BINARY, eventsSocket(),
                privateCgroup2);
    }

    /** The {@code -address} shims are started with (no one listens there; it scopes their socket names). */
    String grpcAddress() {
        return stateDir.resolve("berth.sock").toString();
    }

    /** Home directories of shared shims: {@code <state>/shims/<ns>/<shim id>}. */
    Path shimsDir() {
        return stateDir.resolve("shims");
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    Duration sharedShimIdle() {
        return settings.sharedShimIdle();
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
    SharedShim acquireSharedShim(String namespace, Path shimBinary, boolean privateCgroup2, byte[] options) {
        String key = namespace + "\n" + shimBinary + "\n" + privateCgroup2 + "\n"
                + java.util.HexFormat.of().formatHex(options);
        synchronized (sharedPoolLocks.computeIfAbsent(key, k -> new Object())) {
            List<SharedShim> pool = sharedPools.computeIfAbsent(key, k -> new java.util.concurrent.CopyOnWriteArrayList<>());
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
                throw new ClosedException("task runtime on " + stateDir);
            }
            SharedShim shim = SharedShim.start(this, key, namespace, shimBinary, privateCgroup2, options);
            shim.createStarted();
            pool.add(shim);
            sharedShims.put(shim.home(), shim);
            return shim;
        }
    }

    boolean sharesShims() {
        return settings.sharedShims();
    }

    void forgetShim(SharedShim shim) {
        if (shim.key() != null) {
            List<SharedShim> pool = sharedPools.get(shim.key());
            if (pool != null) {
                pool.remove(shim);
            }
        }
        sharedShims.remove(shim.home(), shim);
    }

    /** Has the session reaper stop an idle shared shim if this JVM goes away. */
    void registerIdleShim(String namespace, String id, Path home, Path shimBinary, boolean privateCgroup2) {
        try {
            reaper().register(new SessionReaper.Target(namespace, id, home, shimBinary, grpcAddress(),
                    home.resolve("fifo"), privateCgroup2));
        } catch (RuntimeException e) {
            log.warn("cannot register idle shim {}/{} with the session reaper: {}", namespace, id, e.toString());
        }
    }

    public Path eventsSocket() {
        return stateDir.resolve("events.sock");
    }

    /** The runc state root for tasks that do not name one; the shim adds a per-namespace directory. */
    public Path runcRoot() {
        return stateDir.resolve("runc");
    }

    Path fifoDir(String namespace, String id) {
        return stateDir.resolve("fifo").resolve(namespace).resolve(id);
    }

    EventLoopGroup loop() {
        return loop.group();
    }

    Executor ioThreads() {
        return ioThreads;
    }

    Executor callbackExecutor() {
        return callbackExecutor;
    }

    ShimLauncher launcher() {
        return launcher;
    }

    Duration rpcTimeout() {
        return settings.rpcTimeout();
    }

    private static String key(String namespace, String id) {
        return namespace + "/" + id;
    }

    private void forward(ForwardRequest request) {
        Envelope envelope = ShimEventDecoder.decode(request.getEnvelope());
        if (envelope.event() instanceof TaskEvent.Exit e) {
            ShimTask task = tasks.get(key(envelope.namespace(), e.containerId()));
            if (task != null) {
                ExitStatus status = new ExitStatus(e.exitStatus(), e.exitedAt());
                if (e.id().equals(e.containerId())) {
                    task.processExited(status);
                } else {
                    task.execExited(e.id(), status);
                }
            }
        } else if (envelope.event() instanceof TaskEvent.Oom oom) {
            ShimTask task = tasks.get(key(envelope.namespace(), oom.containerId()));
            if (task != null) {
                task.oomed();
            }
        }
        settings.events().ifPresent(events -> events.forward(envelope));
        if (envelope.event() instanceof TaskEvent.Delete d) {
            CompletableFuture<Void> waiting = deleteEvents.get(key(envelope.namespace(), d.containerId()));
            if (waiting != null) {
                waiting.complete(null);
            }
        }
    }

    /**
     * Completes once the shim's {@code /tasks/delete} event for the task has been published; call before
     * the Delete request, then {@link #deleteEventDone}. The shim sends that event beside its reply, so
     * without waiting, what the caller does next (deleting the container) could be announced first.
     */
    CompletableFuture<Void> expectDeleteEvent(String namespace, String id) {
        return deleteEvents.computeIfAbsent(key(namespace, id), k -> new CompletableFuture<>());
    }

    void deleteEventDone(String namespace, String id) {
        deleteEvents.remove(key(namespace, id));
    }

    void publish(String namespace, Event event) {
        settings.events().ifPresent(events -> {
            try {
                events.publish(namespace, event);
            } catch (RuntimeException e) {
                log.warn("cannot publish {} in {}: {}", event.topic(), namespace, e.toString());
            }
        });
    }

    /** Removes a retired bundle on an I/O thread; {@link #close()} waits for such removals. */
    void removeLater(Path doomed) {
        if (doomed == null) {
            return;
        }
        pendingRemovals.add(doomed);
        try {
            ioThreads.execute(() -> {
                try {
                    Bundle.removeRecursively(doomed);
                } catch (IOException e) {
                    log.warn("cannot remove {}: {}", doomed, e.toString());
                } finally {
                    pendingRemovals.remove(doomed);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            try {
                Bundle.removeRecursively(doomed);
            } catch (IOException e) {
                log.warn("cannot remove {}: {}", doomed, e.toString());
            } finally {
                pendingRemovals.remove(doomed);
            }
        }
    }

    void forget(ShimTask task) {
        tasks.remove(key(task.namespace(), task.id()), task);
    }

    @Override
    public Task create(TaskConfig config) {
        if (closed) {
            throw new ClosedException("task runtime on " + stateDir);
        }
        String key = key(config.namespace(), config.id());
        Path shim = binaries.resolve(config.runtime().orElse(settings.defaultRuntime()));
        if (tasks.containsKey(key)) {
            throw new AlreadyExistsException("task " + key + " already exists");
        }
        Bundle bundle = Bundle.create(stateDir.resolve("tasks"), config.namespace(), config.id(), config.spec());
        ShimLauncher.Context context = context(config.namespace(), config.id(), bundle, config.privateCgroup2());
        ShimTask task = new ShimTask(this, config, bundle, shim, context);
        tasks.put(key, task);
        try {
            if (config.sessionScoped()) {
                // Registered before the shim exists: a JVM dying while it starts still gets it reaped.
                reaper().register(new SessionReaper.Target(config.namespace(), config.id(), bundle.dir(), shim,
                        context.grpcAddress(), fifoDir(config.namespace(), config.id()), context.privateCgroup2()));
            }
            task.create();
        } catch (RuntimeException e) {
            tasks.remove(key, task);
            throw e;
        }
        return task;
    }

    @Override
    public Optional<Task> get(String namespace, String id) {
        return Optional.ofNullable(tasks.get(key(namespace, id)));
    }

    @Override
    public List<Task> tasks() {
        return List.copyOf(tasks.values());
    }

    @Override
    public RunResult run(TaskConfig config, byte[] stdin) throws InterruptedException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Stdio stdio = Stdio.of(stdin == null ? null : new ByteArrayInputStream(stdin), out, err);
        Task task = create(config.withStdio(stdio));
        ExitStatus status;
        try {
            task.start();
            status = task.waitFor();
        } catch (RuntimeException | InterruptedException e) {
            try {
                task.delete(true);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        task.delete();
        return new RunResult(out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), status.code());
    }

    @Override
    public Path stateDir() {
        return stateDir;
    }

    /** Not under this runtime's monitor: a task deleting itself must not wait for {@link #close()}. */
    private SessionReaper reaper() {
        synchronized (reaperLock) {
            if (reaper == null) {
                reaper = SessionReaper.start(stateDir);
            }
            return reaper;
        }
    }

    void unregisterFromSession(String namespace, String id) {
        SessionReaper r = reaper;
        if (r != null) {
            r.unregister(namespace, id);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (ShimTask task : List.copyOf(tasks.values())) {
            task.close();
        }
        for (SharedShim shim : List.copyOf(sharedShims.values())) {
            shim.closeForRuntime();
        }
        sharedShims.clear();
        sharedPools.clear();
        scheduler.shutdownNow();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!pendingRemovals.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        SessionReaper r;
        synchronized (reaperLock) {
            r = reaper;
        }
        if (r != null) {
            // Session-scoped tasks end with the session.
            r.close();
        }
        if (eventsServer != null) {
            eventsServer.close();
        }
        loop.close();
        ioThreads.shutdownNow();
        lock.close();
    }
}
