package dev.berth.runtime.internal;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.BerthException;
import dev.berth.api.CanceledException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import dev.berth.api.internal.FaultPoints;
import dev.berth.api.oci.runtime.LinuxResources;
import dev.berth.api.oci.runtime.Process;
import dev.berth.api.oci.runtime.RuntimeSpecJson;
import dev.berth.api.task.CheckpointConfig;
import dev.berth.api.task.ExecConfig;
import dev.berth.api.internal.StepTimes;
import dev.berth.api.task.ExecProcess;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.RunResult;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskMetrics;
import dev.berth.api.task.TaskProcess;
import dev.berth.api.task.TaskState;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The calls of {@link Task} that are one request on the task API, plus what hangs off the task's exit
 * and events: execs, OOM events. {@link ShimTask} adds the lifecycle (create, reconnect, delete, close).
 */
abstract class TaskCalls implements Task {
    private static final Logger log = LoggerFactory.getLogger(TaskCalls.class);

    final RuntimeContext ctx;
    final String namespace;
    final String id;
    final Bundle bundle;
    final ExitTracker exit;
    final Map<String, ShimExec> execs = new ConcurrentHashMap<>();
    private final AtomicInteger oomEvents = new AtomicInteger();
    private final List<Runnable> oomListeners = new CopyOnWriteArrayList<>();
    volatile int pid;
    /** The task's stdio on this side; null for a task found again without output FIFOs. */
    volatile TaskIO io;
    /** The process of the task's spec, which execs start from (read once). */
    private volatile Process execBase;

    TaskCalls(RuntimeContext ctx, String namespace, String id, Bundle bundle) {
        this.ctx = ctx;
        this.namespace = namespace;
        this.id = id;
        this.bundle = bundle;
        this.exit = new ExitTracker("task " + namespace + "/" + id);
    }

    /** Whether the connection to the shim is up (false once the shim is gone). */
    abstract boolean shimConnected();

    /** Whether this runtime created the task (rather than finding it again after a restart). */
    abstract boolean createdHere();

    /**
     * Keeps {@code stdout} and {@code stderr} for when this runtime takes the output over from the one that
     * reads it; false if it will not.
     */
    abstract boolean attachLater(OutputStream stdout, OutputStream stderr);

    /** The task API, once the task is connected and until it is deleted or closed. */
    abstract TaskService api();

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

    @Override
    public void start() {
        FaultPoints.reached("task.start.beforeStart");
        pid = api().start("");
        FaultPoints.reached("task.start.afterStart");
    }

    @Override
    public TaskState state() {
        return api().state();
    }

    @Override
    public void kill(int signal, boolean all) {
        api().kill("", signal, all);
    }

    @Override
    public ExitStatus waitFor() throws InterruptedException {
        return exit.waitFor();
    }

    @Override
    public Optional<ExitStatus> waitFor(Duration timeout) throws InterruptedException {
        return exit.waitFor(timeout);
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
        return exit.onExit();
    }

    @Override
    public boolean isAlive() {
        return !exit.hasExited();
    }

    @Override
    public List<TaskProcess> pids() {
        return api().pids();
    }

    @Override
    public void pause() {
        api().pause();
    }

    @Override
    public void resume() {
        api().resume();
    }

    @Override
    public void update(LinuxResources resources) {
        api().update(resources);
    }

    @Override
    public TaskMetrics stats() {
        return api().stats();
    }

    @Override
    public void resizePty(int columns, int rows) {
        api().resizePty("", columns, rows);
    }

    @Override
    public void checkpoint(CheckpointConfig cp) {
        TaskService a = api();
        try {
            Files.createDirectories(cp.imageDir());
        } catch (IOException e) {
            throw new BerthException("cannot create checkpoint directory " + cp.imageDir() + ": " + e.getMessage(), e);
        }
        a.checkpoint(cp);
    }

    @Override
    public void closeStdin() {
        TaskService a = api();
        // Our end of the FIFO must close too, or the shim never sees EOF on it.
        if (io != null) {
            io.closeStdin();
        }
        a.closeStdin("");
    }

    @Override
    public void attach(OutputStream stdout, OutputStream stderr) {
        api();
        TaskIO taskIO = io;
        if ((taskIO == null || !taskIO.reattached()) && !createdHere() && attachLater(stdout, stderr)) {
            return;
        }
        if (taskIO == null || !taskIO.reattached()) {
            throw new FailedPreconditionException("task " + namespace + "/" + id + (createdHere()
                    ? " was created by this runtime: its output goes to the stdio it was created with"
                    : " has no output FIFOs to attach to (created with Stdio.nullIO() or Stdio.file())"));
        }
        taskIO.redirect(stdout, stderr);
    }

    @Override
    public ExecProcess exec(ExecConfig execConfig) {
        TaskService a = api();
        Process base = execBase;
        if (base == null) { // the bundle's spec is written once, before the task is created
            try {
                base = RuntimeSpecJson.read(bundle.configJson()).process();
            } catch (IOException e) {
                throw new BerthException("cannot read the spec of task " + namespace + "/" + id + ": " + e.getMessage(), e);
            }
            execBase = base;
        }
        StepTimes.mark("exec-spec");
        ShimExec exec = new ShimExec(ctx, a, namespace, execConfig,
                ctx.fifoDir(namespace, id).resolve("exec-" + execConfig.execId()), e -> execs.remove(e.execId(), e));
        if (execs.putIfAbsent(execConfig.execId(), exec) != null) {
            throw new AlreadyExistsException("exec " + execConfig.execId() + " already exists in task " + namespace
                    + "/" + id);
        }
        exec.create(execConfig.toProcess(base));
        return exec;
    }

    @Override
    public RunResult run(ExecConfig execConfig, byte[] stdin) throws InterruptedException {
        return ShimExec.run(this, execConfig, stdin);
    }

    /** Kills a running task first and waits (bounded) for its exit: the shim's, or its cleanup's if it died. */
    @Override
    public ExitStatus delete(boolean force) {
        if (force && !exit.hasExited()) {
            try {
                kill(9, true);
            } catch (NotFoundException | FailedPreconditionException e) {
                // already stopped
            } catch (UnavailableException e) {
                if (shimConnected()) {
                    throw e;
                }
                // the shim died: its cleanup reports the exit
            }
            try {
                if (!exit.awaitReported(ctx.rpcTimeout().toMillis() + ShimTask.CLEANUP_TIMEOUT_MS)) {
                    log.warn("task {}/{} did not report its exit after SIGKILL", namespace, id);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CanceledException("interrupted while waiting for " + id + " to die");
            }
        }
        return delete();
    }

    /** What the shim says of the exit of the init process ({@code execId} empty) or an exec; see TaskService. */
    Optional<ExitStatus> confirmedExit(String execId) {
        try {
            return api().confirmedExit(execId);
        } catch (RuntimeException e) {
            return Optional.empty(); // released: nothing to act on
        }
    }

    /** The init process's exit as the Wait RPC (or an earlier event) reported it, if it has been. */
    Optional<ExitStatus> reportedExit() {
        return exit.reported();
    }

    /** An exec's exit as its Wait RPC reported it, if this runtime still has the exec and learned it. */
    Optional<ExitStatus> reportedExit(String execId) {
        ShimExec e = execs.get(execId);
        return e == null ? Optional.empty() : e.reportedExit();
    }

    /** The init process's exit, from a /tasks/exit event. */
    void processExited(ExitStatus status) {
        exit.exited(status);
    }

    /** An exec's /tasks/exit event. */
    void execExited(String execId, ExitStatus status) {
        ShimExec e = execs.get(execId);
        if (e != null) {
            e.processExited(status);
        }
    }

    @Override
    public int oomEvents() {
        return oomEvents.get();
    }

    @Override
    public void onOom(Runnable listener) {
        oomListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** A /tasks/oom event. */
    void oomed() {
        oomEvents.incrementAndGet();
        for (Runnable listener : oomListeners) {
            ctx.callbackExecutor().execute(() -> {
                try {
                    listener.run();
                } catch (RuntimeException e) {
                    log.warn("OOM listener of {}/{} failed", namespace, id, e);
                }
            });
        }
    }
}
