package dev.berth.runtime.internal;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.api.AlreadyExistsException;
import dev.berth.api.BerthException;
import dev.berth.api.CanceledException;
import dev.berth.api.ClosedException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import dev.berth.api.event.TaskEvent;
import dev.berth.api.oci.runtime.LinuxResources;
import dev.berth.api.oci.runtime.Process;
import dev.berth.api.oci.runtime.RuntimeSpecJson;
import dev.berth.runtime.CheckpointConfig;
import dev.berth.runtime.ExecConfig;
import dev.berth.runtime.ExecProcess;
import dev.berth.runtime.ExitStatus;
import dev.berth.runtime.RunResult;
import dev.berth.runtime.RuncOptions;
import dev.berth.runtime.Stdio;
import dev.berth.runtime.Task;
import dev.berth.runtime.TaskConfig;
import dev.berth.runtime.TaskMetrics;
import dev.berth.runtime.TaskProcess;
import dev.berth.runtime.TaskState;
import dev.berth.runtime.TaskStatus;
import dev.berth.runtime.internal.proto.runc.CheckpointOptions;
import dev.berth.runtime.internal.proto.runc.Options;
import dev.berth.runtime.internal.proto.runc.ProcessDetails;
import dev.berth.runtime.internal.proto.task.CheckpointTaskRequest;
import dev.berth.runtime.internal.proto.task.CloseIORequest;
import dev.berth.runtime.internal.proto.task.ConnectRequest;
import dev.berth.runtime.internal.proto.task.ConnectResponse;
import dev.berth.runtime.internal.proto.task.CreateTaskRequest;
import dev.berth.runtime.internal.proto.task.DeleteRequest;
import dev.berth.runtime.internal.proto.task.DeleteResponse;
import dev.berth.runtime.internal.proto.task.KillRequest;
import dev.berth.runtime.internal.proto.task.PauseRequest;
import dev.berth.runtime.internal.proto.task.PidsRequest;
import dev.berth.runtime.internal.proto.task.PidsResponse;
import dev.berth.runtime.internal.proto.task.ResizePtyRequest;
import dev.berth.runtime.internal.proto.task.ResumeRequest;
import dev.berth.runtime.internal.proto.task.ShutdownRequest;
import dev.berth.runtime.internal.proto.task.StartRequest;
import dev.berth.runtime.internal.proto.task.StateRequest;
import dev.berth.runtime.internal.proto.task.StateResponse;
import dev.berth.runtime.internal.proto.task.StatsRequest;
import dev.berth.runtime.internal.proto.task.UpdateTaskRequest;
import dev.berth.runtime.internal.proto.task.WaitRequest;
import dev.berth.runtime.internal.proto.task.WaitResponse;
import dev.berth.runtime.internal.proto.types.ProcessInfo;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A task run by its own shim process, reached over ttrpc. */
final class ShimTask implements Task {
    private static final Logger log = LoggerFactory.getLogger(ShimTask.class);
    static final String RUNC_OPTIONS_TYPE = "containerd.runc.v1.Options";
    static final String CHECKPOINT_OPTIONS_TYPE = "containerd.runc.v1.CheckpointOptions";
    static final String PROCESS_DETAILS_TYPE = "containerd.runc.v1.ProcessDetails";
    static final String PROCESS_TYPE = "types.containerd.io/opencontainers/runtime-spec/1/Process";
    static final String RESOURCES_TYPE = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(3);
    static final long DRAIN_TIMEOUT_MS = 5_000;
    /** The shim's delete action is bounded by the launcher's own 30 s timeout. */
    private static final long CLEANUP_TIMEOUT_MS = 35_000;
    /** The shim forwards {@code /tasks/delete} beside its reply; past this, order is left to chance. */
    private static final long DELETE_EVENT_TIMEOUT_MS = 500;
    private static final int WAIT_RETRIES = 5;

    private final ShimRuntime runtime;
    private final String namespace;
    private final String id;
    /** Empty for a task found again after a restart: only its bundle is known. */
    private final Optional<TaskConfig> config;
    private final Bundle bundle;
    private final Path shimBinary;
    private final ShimLauncher.Context context;
    /** The exit as the shim reports it (Wait RPC, /tasks/exit event or the delete action, whichever is first). */
    private final CompletableFuture<ExitStatus> processExit = new CompletableFuture<>();
    /** The exit once all output is delivered: what callers see. */
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    /** The delete action run after the shim vanished; done at once while the shim is fine. */
    private volatile CompletableFuture<Void> cleanup = CompletableFuture.completedFuture(null);
    private final Map<String, ShimExec> execs = new ConcurrentHashMap<>();
    private final AtomicInteger oomEvents = new AtomicInteger();
    private final List<Runnable> oomListeners = new CopyOnWriteArrayList<>();

    private volatile TaskIO io;
    private ShimLog shimLog;
    private ShimClient client;
    private Path socket;
    private volatile int shimPid;
    private volatile int pid;
    private volatile boolean releasing;
    private volatile boolean createSent;
    private ExitStatus deleted;
    /** The shim serving this task along with others; null when the task has a shim of its own. */
    private volatile SharedShim shared;
    private boolean detached;

    ShimTask(ShimRuntime runtime, TaskConfig config, Bundle bundle, Path shimBinary, ShimLauncher.Context context) {
        this.runtime = runtime;
        this.namespace = config.namespace();
        this.id = config.id();
        this.config = Optional.of(config);
        this.bundle = bundle;
        this.shimBinary = shimBinary;
        this.context = context;
    }

    /** A task whose bundle a previous runtime left; {@link #reconnect()} finds its shim. */
    ShimTask(ShimRuntime runtime, String namespace, String id, Bundle bundle, Path shimBinary,
             ShimLauncher.Context context) {
        this.runtime = runtime;
        this.namespace = namespace;
        this.id = id;
        this.config = Optional.empty();
        this.bundle = bundle;
        this.shimBinary = shimBinary;
        this.context = context;
    }

    static Options runcOptions(RuncOptions o, Path defaultRoot) {
        return Options.newBuilder()
                .setBinaryName(o.binaryName())
                .setRoot(o.root().orElse(defaultRoot).toString())
                .setSystemdCgroup(o.systemdCgroup())
                .setNoPivotRoot(o.noPivotRoot())
                .setNoNewKeyring(o.noNewKeyring())
                .setShimCgroup(o.shimCgroup())
                .setIoUid(o.ioUid())
                .setIoGid(o.ioGid())
                .setCriuPath(o.criuPath())
                .build();
    }

    ShimRuntime runtime() {
        return runtime;
    }

    ShimClient rpc() {
        return client();
    }

    /** Starts the shim and has it create the process. On failure everything is cleaned up. */
    void create() {
        TaskConfig cfg = config.orElseThrow();
        long t0 = System.nanoTime();
        try {
            io = TaskIO.create(runtime.fifoDir(namespace, id), cfg.stdio(), cfg.terminal(),
                    this::closeStdinAfterInput);
            io.startReaders(runtime.ioThreads());
            if (context.privateCgroup2()) {
                bundle.markPrivateCgroup2();
            }
            Any options = Any.newBuilder()
                    .setTypeUrl(RUNC_OPTIONS_TYPE)
                    .setValue(runcOptions(cfg.runcOptions(), runtime.runcRoot()).toByteString())
                    .build();
            long tStarted;
            if (runtime.sharesShims() && !cfg.sessionScoped()) {
                // Session-scoped tasks keep their own shim: the reaper kills a task's shim with the task.
                SharedShim s = runtime.acquireSharedShim(namespace, shimBinary, context.privateCgroup2(),
                        options.toByteArray());
                shared = s;
                socket = s.socket();
                client = s.client();
                shimPid = s.pid();
                tStarted = System.nanoTime();
                bundle.writeSharedShim(s.home(), socket);
                bundle.writeShimBinaryPath(shimBinary);
            } else {
                shimLog = ShimLog.start(bundle.log(), "dev.berth.runtime.shim." + namespace + "." + id,
                        runtime.ioThreads());
                socket = runtime.launcher().start(shimBinary, context, options.toByteArray());
                tStarted = System.nanoTime();
                bundle.writeShimBinaryPath(shimBinary);
                client = ShimClient.connect(runtime.loop(), socket, namespace, CONNECT_TIMEOUT);
                shimPid = ShimClient.await(client.connect(ConnectRequest.newBuilder().setId(id).build(), CONNECT_TIMEOUT))
                        .getShimPid();
            }
            client.closeFuture().thenRun(this::connectionLost);
            CreateTaskRequest.Builder request = CreateTaskRequest.newBuilder()
                    .setId(id)
                    .setBundle(bundle.dir().toString())
                    .setTerminal(cfg.terminal())
                    .setStdin(io.stdin())
                    .setStdout(io.stdout())
                    .setStderr(io.stderr())
                    .setOptions(options);
            cfg.restoreFrom().ifPresent(dir -> request.setCheckpoint(dir.toString()));
            cfg.rootfs().forEach(m -> request.addRootfs(ShimEventDecoder.toProto(m)));
            createSent = true;
            long tConnected = System.nanoTime();
            try {
                pid = ShimClient.await(client.create(request.build(), runtime.rpcTimeout())).getPid();
            } catch (BerthException e) {
                BerthException named = BerthException.fromStatus(e.grpcCode(), "cannot create task " + namespace
                        + "/" + id + " with " + shimBinary + ": " + e.getMessage());
                named.initCause(e);
                throw named;
            }
            if (log.isDebugEnabled()) {
                long tCreated = System.nanoTime();
                log.debug("created {}/{}: shim start {} ms, connect {} ms, Create {} ms", namespace, id,
                        (tStarted - t0) / 1_000_000, (tConnected - tStarted) / 1_000_000,
                        (tCreated - tConnected) / 1_000_000);
            }
            // Armed before start: a process that exits at once is still seen.
            watchExit();
            io.startWriter(runtime.ioThreads());
        } catch (RuntimeException | IOException e) {
            abandon();
            if (e instanceof IOException io) {
                throw new BerthException("cannot create task " + namespace + "/" + id + ": " + io.getMessage(), io);
            }
            throw (RuntimeException) e;
        } finally {
            SharedShim s = shared;
            if (s != null) {
                s.createDone();
            }
        }
    }

    /**
     * Finds the shim of a task a previous runtime created ({@code address} file, then {@code Connect}) and
     * watches its exit again. If the shim is gone or does not answer, runs containerd's cleanup instead
     * (the shim's {@code delete} action), publishes {@code /tasks/exit} and {@code /tasks/delete} with the
     * status it reports, removes the bundle and returns false.
     */
    boolean reconnect() {
        try {
            shimLog = ShimLog.start(bundle.log(), "dev.berth.runtime.shim." + namespace + "." + id, runtime.ioThreads());
        } catch (IOException e) {
            log.debug("no shim log for {}/{}: {}", namespace, id, e.toString());
        }
        try {
            socket = bundle.socket().orElseThrow(() -> new NotFoundException("bundle " + bundle.dir()
                    + " has no shim address"));
            Optional<Path> home = bundle.sharedShim();
            if (home.isPresent()) {
                SharedShim s = runtime.reconnectedShim(home.get());
                if (s == null || !s.attach()) {
                    throw new UnavailableException("shared shim " + home.get() + " is gone");
                }
                shared = s;
                client = s.client();
            } else {
                client = ShimClient.connect(runtime.loop(), socket, namespace, CONNECT_TIMEOUT);
            }
            ConnectResponse connected = ShimClient.await(client.connect(ConnectRequest.newBuilder().setId(id).build(),
                    CONNECT_TIMEOUT));
            shimPid = connected.getShimPid();
            pid = connected.getTaskPid();
            client.closeFuture().thenRun(this::connectionLost);
            // The FIFO reader died with the previous JVM: drain them again, or the container blocks once full.
            io = TaskIO.reattach(runtime.fifoDir(namespace, id), "dev.berth.runtime.task." + namespace + "." + id)
                    .orElse(null);
            if (io != null) {
                io.startReaders(runtime.ioThreads());
            }
            watchExit();
            log.info("reconnected to task {}/{} (pid {}, shim {}{})", namespace, id, pid, shimPid,
                    io != null ? ", output drained to the log" : "");
            return true;
        } catch (RuntimeException e) {
            log.info("task {}/{}: shim unreachable ({}); cleaning up", namespace, id, e.getMessage());
            releasing = true;
            if (shared != null) {
                detachShared();
            } else if (client != null) {
                client.close();
            }
            ExitStatus status = deleteAction();
            if (shared == null && bundle.sharedShim().isEmpty()) {
                killLeftoverShim();
            }
            runtime.publish(namespace, new TaskEvent.Exit(id, id, pid, status.code(), status.exitedAt()));
            runtime.publish(namespace, new TaskEvent.Delete(id, "", pid, status.code(), status.exitedAt()));
            if (shared == null && bundle.sharedShim().isEmpty()) {
                removeSocket();
            }
            release(true);
            return false;
        }
    }

    /** Runs the shim binary's {@code delete} action: runc force-delete, rootfs unmount, the exit to report. */
    private ExitStatus deleteAction() {
        try {
            DeleteResponse r = runtime.launcher().delete(shimBinary, context);
            if (r.getPid() != 0 && pid == 0) {
                pid = r.getPid();
            }
            return new ExitStatus(r.getExitStatus(), r.hasExitedAt() ? ShimEventDecoder.instant(r.getExitedAt())
                    : Instant.now());
        } catch (RuntimeException e) {
            log.warn("cleanup of {}/{} by {} delete failed: {}", namespace, id, shimBinary, e.toString());
            // containerd reports 255 when the shim cannot say how the process ended.
            return new ExitStatus(255, Instant.now());
        }
    }

    /** A shim that is alive but does not answer would hold the task forever: find it by its argv. */
    private void killLeftoverShim() {
        for (long p : ProcFs.shimProcesses(shimBinary, namespace, id, context.grpcAddress())) {
            log.warn("killing unresponsive shim {} of {}/{}", p, namespace, id);
            ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /**
     * Watches the exit through the Wait RPC, which the shim answers even when the exit happened while no
     * one listened (an event published to a dead JVM is lost; Wait is not).
     */
    private void watchExit() {
        awaitExit(0);
        CompletableFuture<ExitStatus> delivered = io == null ? processExit
                : processExit.thenCompose(status -> io.drained()
                        .completeOnTimeout(null, DRAIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                        .thenApply(v -> status));
        delivered.whenCompleteAsync((status, error) -> {
            if (status != null) {
                exit.complete(status);
            } else {
                exit.completeExceptionally(error);
            }
        }, runtime.callbackExecutor());
    }

    private void awaitExit(int attempt) {
        ShimClient c = client;
        c.waitFor(WaitRequest.newBuilder().setId(id).build(), null).whenComplete((r, e) -> {
            if (r != null) {
                processExited(exitStatus(r));
            } else if (c.isOpen() && !releasing && !processExit.isDone()) {
                // A failed Wait on a live connection must not leave waitFor() hanging: ask again.
                if (attempt < WAIT_RETRIES) {
                    log.debug("Wait for {}/{} failed ({}); retrying", namespace, id, e.toString());
                    CompletableFuture.delayedExecutor(200L << attempt, TimeUnit.MILLISECONDS, runtime.ioThreads())
                            .execute(() -> awaitExit(attempt + 1));
                } else {
                    log.warn("Wait for {}/{} keeps failing: {}", namespace, id, e.toString());
                }
            }
        });
    }

    static ExitStatus exitStatus(WaitResponse r) {
        return new ExitStatus(r.getExitStatus(), ShimEventDecoder.instant(r.getExitedAt()));
    }

    /** Called for the init process's exit, from the Wait RPC or a /tasks/exit event. */
    void processExited(ExitStatus status) {
        processExit.complete(status);
    }

    /** Called for an exec's /tasks/exit event. */
    void execExited(String execId, ExitStatus status) {
        ShimExec e = execs.get(execId);
        if (e != null) {
            e.processExited(status);
        }
    }

    /** Called for a /tasks/oom event. */
    void oomed() {
        oomEvents.incrementAndGet();
        for (Runnable listener : oomListeners) {
            runtime.callbackExecutor().execute(() -> {
                try {
                    listener.run();
                } catch (RuntimeException e) {
                    log.warn("OOM listener of {}/{} failed", namespace, id, e);
                }
            });
        }
    }

    private void closeStdinAfterInput() {
        try {
            if (client != null && client.isOpen() && !releasing) {
                ShimClient.await(client.closeIO(CloseIORequest.newBuilder().setId(id).setStdin(true).build(),
                        runtime.rpcTimeout()));
            }
        } catch (BerthException e) {
            log.debug("closing stdin of {}/{} after its input ended: {}", namespace, id, e.toString());
        }
    }

    /**
     * The connection dropped without us asking: the shim died (or was killed). Clean up as containerd
     * does - the shim's delete action kills what is left of the container and reports an exit status -
     * so a waiter gets an exit instead of hanging.
     */
    private void connectionLost() {
        if (releasing) {
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        cleanup = done;
        runtime.ioThreads().execute(() -> {
            try {
                ExitStatus status = deleteAction();
                log.warn("shim of {}/{} exited unexpectedly; task exit status {}", namespace, id, status.code());
                if (processExit.complete(status)) {
                    runtime.publish(namespace, new TaskEvent.Exit(id, id, pid, status.code(), status.exitedAt()));
                }
                for (ShimExec e : execs.values()) {
                    e.processExited(new ExitStatus(255, status.exitedAt()));
                }
            } finally {
                done.complete(null);
            }
        });
    }

    @Override
    public String namespace() {
        return namespace;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public Path bundle() {
        return bundle.dir();
    }

    @Override
    public int pid() {
        return pid;
    }

    private ShimClient client() {
        if (releasing) {
            throw new FailedPreconditionException("task " + namespace + "/" + id + " was deleted or closed");
        }
        return client;
    }

    @Override
    public void start() {
        pid = ShimClient.await(client().start(StartRequest.newBuilder().setId(id).build(), runtime.rpcTimeout()))
                .getPid();
    }

    @Override
    public TaskState state() {
        StateResponse r = ShimClient.await(client().state(StateRequest.newBuilder().setId(id).build(),
                runtime.rpcTimeout()));
        return toState(r);
    }

    static TaskState toState(StateResponse r) {
        TaskStatus status = switch (r.getStatus()) {
            case CREATED -> TaskStatus.CREATED;
            case RUNNING -> TaskStatus.RUNNING;
            case STOPPED -> TaskStatus.STOPPED;
            case PAUSED -> TaskStatus.PAUSED;
            case PAUSING -> TaskStatus.PAUSING;
            default -> TaskStatus.UNKNOWN;
        };
        Optional<ExitStatus> exitStatus = status == TaskStatus.STOPPED
                ? Optional.of(new ExitStatus(r.getExitStatus(), ShimEventDecoder.instant(r.getExitedAt())))
                : Optional.empty();
        return new TaskState(r.getId(), Path.of(r.getBundle()), r.getPid(), status, r.getTerminal(), exitStatus);
    }

    @Override
    public void kill(int signal, boolean all) {
        checkSignal(signal);
        ShimClient.await(client().kill(KillRequest.newBuilder().setId(id).setSignal(signal).setAll(all).build(),
                runtime.rpcTimeout()));
    }

    static void checkSignal(int signal) {
        if (signal <= 0 || signal > 64) {
            throw new InvalidArgumentException("signal must be 1..64, got " + signal);
        }
    }

    @Override
    public ExitStatus waitFor() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            throw unwrap(e);
        }
    }

    @Override
    public Optional<ExitStatus> waitFor(Duration timeout) throws InterruptedException {
        try {
            return Optional.of(exit.get(timeout.toNanos(), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (ExecutionException e) {
            throw unwrap(e);
        }
    }

    static RuntimeException unwrap(ExecutionException e) {
        return e.getCause() instanceof RuntimeException re ? re : new BerthException(String.valueOf(e.getCause()), e);
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
        return exit.copy();
    }

    @Override
    public boolean isAlive() {
        return !processExit.isDone();
    }

    @Override
    public void closeStdin() {
        ShimClient client = client();
        // Our end of the FIFO must close too, or the shim never sees EOF on it.
        if (io != null) {
            io.closeStdin();
        }
        ShimClient.await(client.closeIO(CloseIORequest.newBuilder().setId(id).setStdin(true).build(),
                runtime.rpcTimeout()));
    }

    @Override
    public void attach(OutputStream stdout, OutputStream stderr) {
        client();
        TaskIO taskIO = io;
        if (taskIO == null || !taskIO.reattached()) {
            throw new FailedPreconditionException("task " + namespace + "/" + id + (config.isPresent()
                    ? " was created by this runtime: its output goes to the stdio it was created with"
                    : " has no output FIFOs to attach to (created with Stdio.nullIO() or Stdio.file())"));
        }
        taskIO.redirect(stdout, stderr);
    }

    @Override
    public ExecProcess exec(ExecConfig execConfig) {
        ShimClient c = client();
        Process base;
        try {
            base = RuntimeSpecJson.read(bundle.configJson()).process();
        } catch (IOException e) {
            throw new BerthException("cannot read the spec of task " + namespace + "/" + id + ": " + e.getMessage(), e);
        }
        Process process = execConfig.toProcess(base);
        ShimExec exec = new ShimExec(this, c, execConfig, runtime.fifoDir(namespace, id).resolve("exec-" + execConfig.execId()));
        if (execs.putIfAbsent(execConfig.execId(), exec) != null) {
            throw new AlreadyExistsException("exec " + execConfig.execId() + " already exists in task " + namespace + "/" + id);
        }
        try {
            exec.create(process);
        } catch (RuntimeException e) {
            execs.remove(execConfig.execId(), exec);
            throw e;
        }
        return exec;
    }

    void forgetExec(ShimExec exec) {
        execs.remove(exec.execId(), exec);
    }

    @Override
    public RunResult run(ExecConfig execConfig, byte[] stdin) throws InterruptedException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ExecProcess exec = exec(execConfig.withStdio(
                Stdio.of(stdin == null ? null : new ByteArrayInputStream(stdin), out, err)));
        ExitStatus status;
        try {
            exec.start();
            status = exec.waitFor();
        } catch (RuntimeException | InterruptedException e) {
            try {
                if (exec.isAlive()) {
                    exec.kill(9);
                    exec.waitFor(Duration.ofSeconds(10));
                }
                exec.delete();
            } catch (RuntimeException | InterruptedException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        exec.delete();
        return new RunResult(out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), status.code());
    }

    @Override
    public List<TaskProcess> pids() {
        PidsResponse r = ShimClient.await(client().pids(PidsRequest.newBuilder().setId(id).build(), runtime.rpcTimeout()));
        List<TaskProcess> out = new ArrayList<>(r.getProcessesCount());
        for (ProcessInfo p : r.getProcessesList()) {
            Optional<String> execId = Optional.empty();
            if (p.hasInfo() && p.getInfo().getTypeUrl().endsWith(PROCESS_DETAILS_TYPE)) {
                try {
                    String e = ProcessDetails.parseFrom(p.getInfo().getValue()).getExecId();
                    execId = e.isEmpty() ? Optional.empty() : Optional.of(e);
                } catch (InvalidProtocolBufferException e) {
                    log.debug("unreadable process details for pid {} of {}/{}", p.getPid(), namespace, id);
                }
            }
            out.add(new TaskProcess(p.getPid(), execId));
        }
        return out;
    }

    @Override
    public void pause() {
        ShimClient.await(client().pause(PauseRequest.newBuilder().setId(id).build(), runtime.rpcTimeout()));
    }

    @Override
    public void resume() {
        ShimClient.await(client().resume(ResumeRequest.newBuilder().setId(id).build(), runtime.rpcTimeout()));
    }

    @Override
    public void update(LinuxResources resources) {
        Any any = Any.newBuilder().setTypeUrl(RESOURCES_TYPE)
                .setValue(ByteString.copyFrom(RuntimeSpecJson.toJson(resources))).build();
        ShimClient.await(client().update(UpdateTaskRequest.newBuilder().setId(id).setResources(any).build(),
                runtime.rpcTimeout()));
    }

    @Override
    public TaskMetrics stats() {
        Any stats = ShimClient.await(client().stats(StatsRequest.newBuilder().setId(id).build(), runtime.rpcTimeout()))
                .getStats();
        return MetricsDecoder.decode(stats.getTypeUrl(), stats.getValue());
    }

    @Override
    public void resizePty(int columns, int rows) {
        ShimClient.await(client().resizePty(resizeRequest(id, "", columns, rows), runtime.rpcTimeout()));
    }

    static ResizePtyRequest resizeRequest(String id, String execId, int columns, int rows) {
        if (columns <= 0 || rows <= 0) {
            throw new InvalidArgumentException("terminal size must be positive, got " + columns + "x" + rows);
        }
        return ResizePtyRequest.newBuilder().setId(id).setExecId(execId).setWidth(columns).setHeight(rows).build();
    }

    @Override
    public void checkpoint(CheckpointConfig cp) {
        ShimClient c = client();
        try {
            Files.createDirectories(cp.imageDir());
        } catch (IOException e) {
            throw new BerthException("cannot create checkpoint directory " + cp.imageDir() + ": " + e.getMessage(), e);
        }
        CheckpointOptions.Builder options = CheckpointOptions.newBuilder()
                .setExit(cp.exit())
                .setOpenTcp(cp.openTcp())
                .setExternalUnixSockets(cp.externalUnixSockets())
                .setTerminal(cp.terminal())
                .setFileLocks(cp.fileLocks())
                .addAllEmptyNamespaces(cp.emptyNamespaces())
                .setCgroupsMode(cp.cgroupsMode())
                .setImagePath(cp.imageDir().toString());
        cp.workDir().ifPresent(w -> options.setWorkPath(w.toString()));
        Any any = Any.newBuilder().setTypeUrl(CHECKPOINT_OPTIONS_TYPE).setValue(options.build().toByteString()).build();
        try {
            ShimClient.await(c.checkpoint(CheckpointTaskRequest.newBuilder().setId(id)
                    .setPath(cp.imageDir().toString()).setOptions(any).build(), runtime.rpcTimeout()));
        } catch (BerthException e) {
            BerthException named = BerthException.fromStatus(e.grpcCode(), "cannot checkpoint task " + namespace + "/"
                    + id + " (CRIU): " + e.getMessage());
            named.initCause(e);
            throw named;
        }
    }

    @Override
    public int oomEvents() {
        return oomEvents.get();
    }

    @Override
    public void onOom(Runnable listener) {
        oomListeners.add(java.util.Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public ExitStatus delete(boolean force) {
        if (force && !processExit.isDone()) {
            try {
                kill(9, true);
            } catch (NotFoundException | FailedPreconditionException e) {
                // already stopped
            } catch (UnavailableException e) {
                if (client.isOpen()) {
                    throw e;
                }
                // the shim died: its cleanup reports the exit
            }
            try {
                processExit.get(runtime.rpcTimeout().toMillis() + CLEANUP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CanceledException("interrupted while waiting for " + id + " to die");
            } catch (ExecutionException | TimeoutException e) {
                log.warn("task {}/{} did not report its exit after SIGKILL: {}", namespace, id, e.toString());
            }
        }
        return delete();
    }

    @Override
    public synchronized ExitStatus delete() {
        if (deleted != null) {
            return deleted;
        }
        if (releasing) {
            throw new ClosedException("task " + namespace + "/" + id);
        }
        long t0 = System.nanoTime();
        if (!processExit.isDone() && client.isOpen()) {
            TaskStatus status = state().status();
            if (status == TaskStatus.RUNNING || status == TaskStatus.PAUSED || status == TaskStatus.PAUSING) {
                throw new FailedPreconditionException("task " + namespace + "/" + id + " is " + status
                        + "; kill it first or use delete(true)");
            }
        }
        DeleteResponse r = null;
        boolean shimGone = !client.isOpen();
        CompletableFuture<Void> deleteEvent = runtime.expectDeleteEvent(namespace, id);
        if (!shimGone) {
            try {
                r = ShimClient.await(client.delete(DeleteRequest.newBuilder().setId(id).build(), runtime.rpcTimeout()));
            } catch (NotFoundException e) {
                log.debug("task {}/{} was already gone from its shim", namespace, id);
            } catch (UnavailableException e) {
                if (client.isOpen()) {
                    throw e;
                }
                shimGone = true;
            }
        }
        if (shimGone) {
            awaitCleanup();
        }
        ExitStatus status;
        if (r != null) {
            status = new ExitStatus(r.getExitStatus(), r.hasExitedAt() ? ShimEventDecoder.instant(r.getExitedAt()) : Instant.now());
        } else {
            status = processExit.getNow(new ExitStatus(255, Instant.now()));
        }
        processExit.complete(status);
        try {
            exit.get(DRAIN_TIMEOUT_MS + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.debug("output of {}/{} not fully drained: {}", namespace, id, e.toString());
        }
        if (r != null) {
            awaitDeleteEvent(deleteEvent);
        }
        runtime.deleteEventDone(namespace, id);
        long tDeleted = System.nanoTime();
        releasing = true;
        stopShim(false);
        long tStopped = System.nanoTime();
        release(true);
        if (shimGone) {
            // The shim cannot announce a delete it never saw; containerd publishes it itself then.
            runtime.publish(namespace, new TaskEvent.Delete(id, "", pid, status.code(), status.exitedAt()));
        }
        if (log.isDebugEnabled()) {
            log.debug("deleted {}/{}: Delete+drain {} ms, shim stop {} ms, release {} ms", namespace, id,
                    (tDeleted - t0) / 1_000_000, (tStopped - tDeleted) / 1_000_000,
                    (System.nanoTime() - tStopped) / 1_000_000);
        }
        deleted = status;
        return status;
    }

    /** So that {@code /tasks/delete} is published before this returns, as it is announced before the reply. */
    private void awaitDeleteEvent(CompletableFuture<Void> event) {
        try {
            event.get(DELETE_EVENT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.debug("no /tasks/delete event from the shim of {}/{} within {} ms", namespace, id,
                    DELETE_EVENT_TIMEOUT_MS);
        }
    }

    private void awaitCleanup() {
        try {
            cleanup.get(CLEANUP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CanceledException("interrupted while cleaning up after the shim of " + namespace + "/" + id);
        } catch (ExecutionException | TimeoutException e) {
            log.warn("cleanup after the shim of {}/{} did not finish: {}", namespace, id, e.toString());
        }
    }

    /** Leaves the shared shim, which stops (or idles) once no task uses it. Once only. */
    private synchronized void detachShared() {
        if (!detached) {
            detached = true;
            shared.detach();
        }
    }

    /** Asks the shim to exit, then makes sure it is gone and its socket removed. */
    private void stopShim(boolean now) {
        if (shared != null) {
            detachShared();
            return;
        }
        if (client != null) {
            if (client.isOpen()) {
                try {
                    ShimClient.await(client.shutdown(ShutdownRequest.newBuilder().setId(id).setNow(now).build(),
                            SHUTDOWN_TIMEOUT));
                } catch (BerthException e) {
                    // The shim usually exits before answering; the connection then closes under the call.
                    log.debug("shutdown of shim {}/{}: {}", namespace, id, e.toString());
                }
            }
            client.close();
        }
        int p = shimPid;
        if (p > 0) {
            try {
                if (!ProcFs.awaitGone(p, 2_000)) {
                    log.warn("shim {} of {}/{} did not exit after shutdown; killing it", p, namespace, id);
                    ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly);
                    ProcFs.awaitGone(p, 2_000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        removeSocket();
    }

    private void removeSocket() {
        if (socket != null) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                log.warn("cannot remove shim socket {}: {}", socket, e.toString());
            }
        }
    }

    /** Frees this JVM's side: pumps, log reader and, when {@code removeBundle}, FIFOs and bundle. */
    private void release(boolean removeBundle) {
        runtime.forget(this);
        for (ShimExec e : List.copyOf(execs.values())) {
            e.release();
        }
        TaskIO taskIO = io;
        if (taskIO != null) {
            try {
                if (removeBundle) {
                    taskIO.close();
                } else {
                    // The task lives on: the next runtime drains these FIFOs again.
                    taskIO.detach();
                }
            } catch (IOException e) {
                log.warn("cannot remove stdio FIFOs of {}/{}: {}", namespace, id, e.toString());
            }
        }
        if (shimLog != null) {
            shimLog.close();
        }
        if (removeBundle) {
            try {
                // Renamed now, removed off the caller's path (deleting files is slow on some disks).
                runtime.removeLater(bundle.retire());
            } catch (IOException e) {
                log.warn("cannot remove bundle {}: {}", bundle.dir(), e.toString());
            }
            try {
                Bundle.removeRecursively(runtime.fifoDir(namespace, id));
            } catch (IOException e) {
                log.warn("cannot remove FIFOs of {}/{}: {}", namespace, id, e.toString());
            }
            runtime.unregisterFromSession(namespace, id);
        }
        exit.completeExceptionally(new CanceledException("task " + namespace + "/" + id + " was released"));
    }

    /** Undoes a failed create: the shim (if any) is stopped, and nothing of the task remains. */
    private void abandon() {
        releasing = true;
        if (createSent && client.isOpen()) {
            try {
                ShimClient.await(client.delete(DeleteRequest.newBuilder().setId(id).build(), SHUTDOWN_TIMEOUT));
            } catch (BerthException e) {
                log.debug("delete of {}/{} after a failed create: {}", namespace, id, e.toString());
            }
        }
        stopShim(true);
        if (createSent) {
            // A Create that failed half way (or timed out) can leave a runc container the shim no longer
            // tracks; the shim's delete action force-deletes it with the right runc root and unmounts rootfs.
            try {
                runtime.launcher().delete(shimBinary, context);
            } catch (RuntimeException e) {
                log.debug("cleanup of {}/{} after a failed create: {}", namespace, id, e.toString());
            }
        }
        release(true);
    }

    @Override
    public synchronized void close() {
        if (releasing) {
            return;
        }
        releasing = true;
        if (client != null && shared == null) {
            client.close();
        }
        release(false);
    }

    @Override
    public String toString() {
        return "Task[" + namespace + "/" + id + ", pid " + pid + "]";
    }
}
