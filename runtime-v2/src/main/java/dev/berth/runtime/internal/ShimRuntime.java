package dev.berth.runtime.internal;

import com.google.protobuf.Empty;
import dev.berth.api.AlreadyExistsException;
import dev.berth.api.ClosedException;
import dev.berth.api.IoFailureException;
import dev.berth.api.UnavailableException;
import dev.berth.api.internal.FaultPoints;
import dev.berth.api.internal.StepTimes;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link TaskRuntime} over runtime-v2 shim binaries: owns the state directory, the threads and the events
 * socket, and hands each task an immutable {@link RuntimeContext}.
 */
public final class ShimRuntime implements TaskRuntime {
    public static final String EVENTS_SERVICE = "containerd.services.events.ttrpc.v1.Events";
    /** How often a runtime that does not serve the events socket tries to take it over. */
    private static final Logger log = LoggerFactory.getLogger(ShimRuntime.class);
    static final long EVENTS_TAKEOVER_MS = 200;
    /** Well inside the 5 s a containerd 1.6 shim gives a Forward call before it resends the event. */
    static final long FORWARD_REPLY_WAIT_MS = 2_000;

    private final RuntimeSettings settings;
    private final Path stateDir;
    private final EpollLoop loop;
    private final ExecutorService ioThreads;
    private final ScheduledExecutorService scheduler;
    private final EventsSocketOwner eventsSocket;
    private final ShimBinaries binaries;
    private final TaskRecovery recovery;
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
        // Any number of runtimes share the state directory: each task has its own lock (TaskLocks), and
        // one live runtime at a time serves the shims' events socket (EventsSocketOwner).
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
        EventRouter events = new EventRouter(settings.events(), tasks, new ExitClaims(stateDir.resolve("tasks")),
                ioThreads);
        this.ctx = new RuntimeContext(stateDir, loop.group(), ioThreads, settings.executor().orElse(ioThreads),
                scheduler, settings.rpcTimeout(), new ShimLauncher(ioThreads), events, new Sessions(stateDir),
                new Removals(ioThreads), tasks, RuntimeContext.taskLocks(stateDir), RuntimeContext.outputLocks(stateDir));
        this.sharedShims = new SharedShimPool(ctx, settings.sharedShimIdle());
        this.eventsSocket = new EventsSocketOwner(stateDir, ctx.eventsSocket(), () -> TtrpcServer.builder()
                .register(EVENTS_SERVICE, "Forward", (call, payload) -> {
                    try {
                        CompletableFuture<Void> handled = events.forward(ForwardRequest.parseFrom(payload));
                        // replied once handled, normally; a slow one stays queued in order (see EventRouter)
                        handled.get(FORWARD_REPLY_WAIT_MS, TimeUnit.MILLISECONDS);
                    } catch (TimeoutException e) {
                        log.debug("an event of a shim is still being handled; replied to keep its order");
                    } catch (ExecutionException e) {
                        if (EventRouter.causedByShutdown(e.getCause())) {
                            throw closingForEvents();
                        }
                        throw e.getCause() instanceof Exception x ? x : new IllegalStateException(e.getCause());
                    } catch (InterruptedException | RejectedExecutionException e) {
                        // this process is closing (a short CLI command, typically) as the event came in
                        if (e instanceof InterruptedException) {
                            Thread.currentThread().interrupt();
                        }
                        throw closingForEvents();
                    }
                    return Empty.getDefaultInstance().toByteArray();
                })
                .executor(ioThreads)
                .bind(loop.group(), ctx.eventsSocket()));
        this.recovery = new TaskRecovery(ctx, sharedShims, () -> binaries.resolve(settings.defaultRuntime()));
        try {
            eventsSocket.tryOwn();
            scheduler.scheduleWithFixedDelay(eventsSocket::tryOwn, EVENTS_TAKEOVER_MS, EVENTS_TAKEOVER_MS,
                    TimeUnit.MILLISECONDS);
            SessionReaper.reapOrphans(stateDir);
            recovery.run();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public Path eventsSocket() {
        return ctx.eventsSocket();
    }

    /** Whether this runtime serves the events socket now (one runtime on the state directory does). */
    public boolean servesEventsSocket() {
        return eventsSocket.owns();
    }

    /** The runc state root for tasks that do not name one; the shim adds a per-namespace directory. */
    public Path runcRoot() {
        return ctx.runcRoot();
    }

    /**
     * Launches the spare shim for {@code namespace} now, for a task with the default runtime and
     * {@link dev.berth.api.task.RuncOptions#defaults() default runc options}, unless spare shims are off or
     * one is ready or on its way; returns at once. Without it, a runtime's first spare is launched only when
     * a first single-use task lets go of its shim, so the first task of a process starts a shim in line.
     * Returns whether spare shims are on.
     */
    public boolean prepareSpareShim(String namespace) {
        if (closed) {
            throw new ClosedException("task runtime on " + stateDir);
        }
        if (!settings.spareShim()) {
            return false;
        }
        Path shim = binaries.resolve(settings.defaultRuntime());
        sharedShims.prepareSpare(namespace, shim, false,
                TaskService.runcOptions(dev.berth.api.task.RuncOptions.defaults(), ctx.runcRoot()).toByteArray());
        return true;
    }

    /**
     * The spare shim for {@code namespace} (default runtime and runc options, as {@link #prepareSpareShim}
     * launches it), handed over as the shim of a new shim group: returns the group name for the tasks' specs,
     * or empty if spare shims are off or none is ready (the next one is launched then; after a take, at the
     * next {@link #prepareSpareShim}). The group's
     * shim stops with its last task, or at {@link #endShimGroup} if none came.
     */
    public java.util.Optional<String> takeSpareShimAsGroup(String namespace) {
        if (closed) {
            throw new ClosedException("task runtime on " + stateDir);
        }
        if (!settings.spareShim()) {
            return java.util.Optional.empty();
        }
        Path shim = binaries.resolve(settings.defaultRuntime());
        return sharedShims.takeSpareAsGroup(namespace, shim, false,
                TaskService.runcOptions(dev.berth.api.task.RuncOptions.defaults(), ctx.runcRoot()).toByteArray());
    }

    /** Shim group {@code group} (from {@link #takeSpareShimAsGroup}) takes no new tasks; see {@link SharedShimPool#endGroup}. */
    public void endShimGroup(String group) {
        sharedShims.endGroup(group);
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
        // Held until the shim has created the process: another runtime finds either no bundle or a whole task.
        try (TaskLocks.Held held = ctx.locks().lock(namespace, id)) {
            StepTimes.mark("task-lock");
            return createLocked(config, shim, held);
        }
    }

    private ShimTask createLocked(TaskConfig config, Path shim, TaskLocks.Held held) {
        String namespace = config.namespace();
        String id = config.id();
        Bundle bundle = Bundle.create(ctx.tasksDir(), namespace, id, config.spec());
        StepTimes.mark("bundle");
        FaultPoints.reached("task.create.afterBundle");
        ShimLauncher.Context launch = ctx.shimContext(namespace, id, bundle.dir(), config.privateCgroup2());
        ShimTask task = new ShimTask(ctx, sharedShims, namespace, id, Optional.of(config), bundle, shim, launch);
        if (!ctx.tasks().add(task)) {
            try {
                bundle.delete();
            } catch (IOException e) {
                throw IoFailureException.of("cannot remove bundle " + bundle.dir(), e);
            }
            throw new AlreadyExistsException("task " + TaskTable.key(namespace, id) + " already exists");
        }
        try {
            if (config.sessionScoped()) {
                // Registered before the shim exists: a JVM dying while it starts still gets it reaped.
                ctx.sessions().register(new SessionReaper.Target(namespace, id, bundle.dir(), shim,
                        ctx.grpcAddress(), ctx.fifoDir(namespace, id), launch.privateCgroup2()));
            }
            task.create(shimChoice(config));
        } catch (RuntimeException e) {
            ctx.tasks().remove(task);
            held.taskGone();
            throw e;
        }
        return task;
    }

    /**
     * A task of a shim group is started by the shim's start, which finds the group's shim (ShimGroup).
     * Session-scoped tasks never share a shim (the reaper stops a task's shim with the task) but may take
     * the spare, which then stays registered with the reaper beside the task.
     */
    private ShimTask.ShimChoice shimChoice(TaskConfig config) {
        if (ShimGroup.of(config.spec()).isPresent()) {
            return ShimTask.ShimChoice.OWN;
        }
        if (settings.sharedShims() && !config.sessionScoped()) {
            return ShimTask.ShimChoice.SHARED;
        }
        return settings.spareShim() ? ShimTask.ShimChoice.SPARE : ShimTask.ShimChoice.OWN;
    }

    /**
     * The task, also one another runtime created (found by its bundle, as after a restart). A handle whose
     * task another runtime deleted is dropped.
     */
    @Override
    public Optional<Task> get(String namespace, String id) {
        Optional<ShimTask> known = ctx.tasks().get(namespace, id);
        if (closed) {
            return known.map(Task.class::cast);
        }
        if (known.isPresent()) {
            if (known.get().bundleExists()) {
                return known.map(Task.class::cast);
            }
            known.get().deletedElsewhere();
        }
        return recovery.find(namespace, id).map(Task.class::cast);
    }

    /** Every task on the state directory, whichever runtime created it. */
    @Override
    public List<Task> tasks() {
        if (closed) {
            return List.copyOf(ctx.tasks().all());
        }
        for (ShimTask t : ctx.tasks().all()) {
            if (!t.bundleExists()) {
                t.deletedElsewhere();
            }
        }
        recovery.findAll();
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
        return new RunResult(out.toByteArray(), err.toByteArray(), status.code());
    }

    @Override
    public Path stateDir() {
        return stateDir;
    }

    /** The reply to an event that came in as this runtime closed: the shim publishes it again, to the next owner. */
    private static UnavailableException closingForEvents() {
        return new UnavailableException("the runtime is closing; publish the event again");
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
        eventsSocket.close();
        ctx.events().close();
        loop.close();
        ioThreads.shutdownNow();
    }
}
