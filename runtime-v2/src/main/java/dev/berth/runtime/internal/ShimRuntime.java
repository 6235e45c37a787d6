package dev.berth.runtime.internal;

import com.google.protobuf.Empty;
import dev.berth.api.AlreadyExistsException;
import dev.berth.api.FailedPreconditionException;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link TaskRuntime} over runtime-v2 shim binaries. */
public final class ShimRuntime implements TaskRuntime {
    private static final Logger log = LoggerFactory.getLogger(ShimRuntime.class);
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
    private final StateLock lock;
    private final Object reaperLock = new Object();
    private volatile SessionReaper reaper;
    private volatile boolean closed;

    public ShimRuntime(RuntimeSettings settings) {
        this.settings = settings;
        this.stateDir = settings.stateDir();
        try {
            Files.createDirectories(stateDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create state directory " + stateDir, e);
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
        return new ShimLauncher.Context(namespace, id, bundle.dir(), stateDir.resolve("berth.sock").toString(),
                PUBLISH_BINARY, eventsSocket(), privateCgroup2);
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

    void forget(ShimTask task) {
        tasks.remove(key(task.namespace(), task.id()), task);
    }

    @Override
    public Task create(TaskConfig config) {
        if (closed) {
            throw new FailedPreconditionException("task runtime on " + stateDir + " is closed");
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
