package dev.berth.runtime.internal;

import dev.berth.api.BerthException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import dev.berth.api.oci.runtime.Process;
import dev.berth.api.internal.StepTimes;
import dev.berth.api.task.ExecConfig;
import dev.berth.api.task.ExecProcess;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.RunResult;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.runtime.internal.proto.task.DeleteResponse;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A process the shim runs inside a task's container ({@code Exec} with an exec id), with its own stdio. */
final class ShimExec implements ExecProcess {
    private static final Logger log = LoggerFactory.getLogger(ShimExec.class);

    private final RuntimeContext ctx;
    private final TaskService api;
    private final ExecConfig config;
    private final Path fifoDir;
    private final String name;
    private final Consumer<ShimExec> onRelease;
    private final ExitTracker exit;
    private TaskIO io;
    private volatile int pid;
    private volatile boolean started;
    private volatile boolean released;
    private ExitStatus deleted;

    ShimExec(RuntimeContext ctx, TaskService api, String namespace, ExecConfig config, Path fifoDir,
             Consumer<ShimExec> onRelease) {
        this.ctx = ctx;
        this.api = api;
        this.config = config;
        this.fifoDir = fifoDir;
        this.name = "exec " + config.execId() + " of task " + namespace + "/" + api.id();
        this.onRelease = onRelease;
        this.exit = new ExitTracker(name);
    }

    /** Sends Exec with {@code process} as the OCI Process JSON and watches the exit from then on. */
    void create(Process process) {
        try {
            io = TaskIO.create(fifoDir, config.stdio(), config.terminal(), this::closeStdinAfterInput);
            StepTimes.mark("exec-fifos");
            io.startReaders(ctx.ioThreads());
            api.exec(config.execId(), config.terminal(), io, process);
            StepTimes.mark("exec-rpc");
        } catch (RuntimeException | IOException e) {
            close();
            if (e instanceof IOException ioe) {
                throw new BerthException("cannot create " + name + ": " + ioe.getMessage(), ioe);
            }
            throw (RuntimeException) e;
        }
        exit.watch(api, config.execId(), ctx.ioThreads(), () -> !released);
        exit.deliverAfter(io, ctx.callbackExecutor());
        io.startWriter(ctx.ioThreads());
    }

    /** Runs an exec of {@code task} to its end with its output captured, and removes it again. */
    static RunResult run(Task task, ExecConfig execConfig, byte[] stdin) throws InterruptedException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ExecProcess exec = task.exec(execConfig.withStdio(
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
        return new RunResult(out.toByteArray(), err.toByteArray(), status.code());
    }

    void processExited(ExitStatus status) {
        exit.exited(status);
    }

    /** The exit as the Wait RPC (or an earlier event) reported it, if it has been. */
    Optional<ExitStatus> reportedExit() {
        return exit.reported();
    }

    private void closeStdinAfterInput() {
        try {
            if (api.isOpen() && !released) {
                api.closeStdin(config.execId());
            }
        } catch (BerthException e) {
            log.debug("closing stdin of {} after its input ended: {}", name, e.toString());
        }
    }

    private void checkOpen() {
        if (released) {
            throw new FailedPreconditionException(name + " was deleted or closed");
        }
    }

    @Override
    public String execId() {
        return config.execId();
    }

    @Override
    public int pid() {
        return pid;
    }

    @Override
    public void start() {
        checkOpen();
        pid = api.start(config.execId());
        started = true;
        StepTimes.mark("start-rpc");
    }

    @Override
    public void kill(int signal) {
        checkOpen();
        api.kill(config.execId(), signal, false);
    }

    @Override
    public boolean isAlive() {
        return !exit.hasExited();
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
    public void closeStdin() {
        checkOpen();
        io.closeStdin();
        api.closeStdin(config.execId());
    }

    @Override
    public void resizePty(int columns, int rows) {
        checkOpen();
        api.resizePty(config.execId(), columns, rows);
    }

    @Override
    public synchronized ExitStatus delete() {
        if (deleted != null) {
            return deleted;
        }
        checkOpen();
        if (started && !exit.hasExited()) {
            throw new FailedPreconditionException(name + " is still running; kill it first");
        }
        DeleteResponse r = null;
        try {
            r = api.delete(config.execId());
        } catch (NotFoundException e) {
            log.debug("{} was already gone from the shim", name);
        } catch (UnavailableException e) {
            if (api.isOpen()) {
                throw e;
            }
        }
        ExitStatus status = r != null ? TaskService.exitStatus(r) : exit.reportedOr(new ExitStatus(255, Instant.now()));
        exit.exited(status);
        exit.awaitDelivered();
        close();
        deleted = status;
        return status;
    }

    /** Frees this JVM's side (pumps, FIFOs). Idempotent. */
    @Override
    public void close() {
        if (released) {
            return;
        }
        released = true;
        onRelease.accept(this);
        if (io != null) {
            try {
                io.close();
            } catch (IOException e) {
                log.warn("cannot remove stdio FIFOs of {}: {}", name, e.toString());
            }
        }
        exit.cancel();
    }

    @Override
    public String toString() {
        return "Exec[" + name + ", pid " + pid + "]";
    }
}
