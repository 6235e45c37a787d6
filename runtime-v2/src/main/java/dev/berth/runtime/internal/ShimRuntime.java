package dev.berth.runtime.internal;

import com.google.protobuf.Empty;
import dev.berth.api.AlreadyExistsException;
import dev.berth.api.ClosedException;
import dev.berth.api.IoFailureException;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.RunResult;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskRuntime;
import dev.berth.runtime.internal.proto.eventsvc.ForwardRequest;
import dev.berth.runtime.ttrpc.internal.EpollLoop;
import dev.berth.runtime.ttrpc.internal.TtrpcServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link TaskRuntime} over runtime-v2 shim binaries: owns the state directory, the threads and the events
 * socket, and hands each task an immutable {@link RuntimeContext}.
 */
public final class ShimRuntime implements TaskRuntime {
    public static final String EVENTS_SERVICE = "containerd.services.events.ttrpc.v1.Events";

    private final RuntimeSettings settings;
    private final Path stateDir;
    private final EpollLoop loop;
    private final ExecutorService ioThreads;
    private final ScheduledExecutorService scheduler;
    private final TtrpcServer eventsServer;
    private final ShimBinaries binaries;
    private final StateLock lock;
    private final RuntimeContext ctx;
    private final SharedShimPool sharedShims;
    private volatile boolean closed;

    public ShimRuntime(RuntimeSettings settings) {
        this.settings = settings;
        this.stateDir = settings.stateDir();
        try {
            // explicit modes, as containerd's: the JVM's umask may be 000
            Files.createDirectories(stateDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
            Files.setPosixFilePermissions(stateDir, PosixFilePermissions.fromString("rwx--x--x"));
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
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "berth-runtime-timer");
            t.setDaemon(true);
            return t;
        });
        this.loop = EpollLoop.start("berth-ttrpc", 1);
        this.binaries = new ShimBinaries(settings.shimSearchPath());
        TaskTable tasks = new TaskTable();
        EventRouter events = new EventRouter(settings.events(), tasks);
        this.ctx = new RuntimeContext(stateDir, loop.group(), ioThreads, settings.executor().orElse(ioThreads),
                scheduler, settings.rpcTimeout(), new ShimLauncher(ioThreads), events, new Sessions(stateDir),
                new Removals(ioThreads), tasks);
        this.sharedShims = new SharedShimPool(ctx, settings.sharedShimIdle());
        try {
            this.eventsServer = TtrpcServer.builder()
                    .register(EVENTS_SERVICE, "Forward", (call, payload) -> {
                        events.forward(ForwardRequest.parseFrom(payload));
                        return Empty.getDefaultInstance().toByteArray();
                    })
                    .executor(ioThreads)
                    .bind(loop.group(), ctx.eventsSocket());
        } catch (RuntimeException e) {
            loop.close();
            ioThreads.shutdownNow();
            scheduler.shutdownNow();
            lock.close();
            throw e;
        }
        try {
            SessionReaper.reapOrphans(stateDir);
            new TaskRecovery(ctx, sharedShims, () -> binaries.resolve(settings.defaultRuntime())).run();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public Path eventsSocket() {
        return ctx.eventsSocket();
    }

    /** The runc state root for tasks that do not name one; the shim adds a per-namespace directory. */
    public Path runcRoot() {
        return ctx.runcRoot();
    }

    @Override
    public Task create(TaskConfig config) {
        if (closed) {
            throw new ClosedException("task runtime on " + stateDir);
        }
        String namespace = config.namespace();
        String id = config.id();
        Path shim = binaries.resolve(config.runtime().orElse(settings.defaultRuntime()));
        if (ctx.tasks().contains(namespace, id)) {
            throw new AlreadyExistsException("task " + TaskTable.key(namespace, id) + " already exists");
        }
        Bundle bundle = Bundle.create(ctx.tasksDir(), namespace, id, config.spec());
        ShimLauncher.Context launch = ctx.shimContext(namespace, id, bundle.dir(), config.privateCgroup2());
        ShimTask task = new ShimTask(ctx, sharedShims, namespace, id, Optional.of(config), bundle, shim, launch);
        if (!ctx.tasks().add(task)) {
            throw new AlreadyExistsException("task " + TaskTable.key(namespace, id) + " already exists");
        }
        try {
            if (config.sessionScoped()) {
                // Registered before the shim exists: a JVM dying while it starts still gets it reaped.
                ctx.sessions().register(new SessionReaper.Target(namespace, id, bundle.dir(), shim,
                        ctx.grpcAddress(), ctx.fifoDir(namespace, id), launch.privateCgroup2()));
            }
            // Session-scoped tasks keep their own shim: the reaper kills a task's shim with the task.
            task.create(settings.sharedShims() && !config.sessionScoped());
        } catch (RuntimeException e) {
            ctx.tasks().remove(task);
            throw e;
        }
        return task;
    }

    @Override
    public Optional<Task> get(String namespace, String id) {
        return ctx.tasks().get(namespace, id).map(Task.class::cast);
    }

    @Override
    public List<Task> tasks() {
        return List.copyOf(ctx.tasks().all());
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

    /** Detaches from every task (none waits behind a delete in progress), then stops threads and sockets. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (ShimTask task : ctx.tasks().all()) {
            task.close();
        }
        sharedShims.close();
        scheduler.shutdownNow();
        ctx.removals().await(10_000);
        ctx.sessions().close();
        if (eventsServer != null) {
            eventsServer.close();
        }
        loop.close();
        ioThreads.shutdownNow();
        lock.close();
    }
}
