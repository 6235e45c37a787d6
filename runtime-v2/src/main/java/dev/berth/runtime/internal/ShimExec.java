package dev.berth.runtime.internal;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.berth.api.BerthException;
import dev.berth.api.CanceledException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import dev.berth.api.oci.runtime.Process;
import dev.berth.api.oci.runtime.RuntimeSpecJson;
import dev.berth.runtime.ExecConfig;
import dev.berth.runtime.ExecProcess;
import dev.berth.runtime.ExitStatus;
import dev.berth.runtime.internal.proto.task.CloseIORequest;
import dev.berth.runtime.internal.proto.task.DeleteRequest;
import dev.berth.runtime.internal.proto.task.DeleteResponse;
import dev.berth.runtime.internal.proto.task.ExecProcessRequest;
import dev.berth.runtime.internal.proto.task.KillRequest;
import dev.berth.runtime.internal.proto.task.StartRequest;
import dev.berth.runtime.internal.proto.task.WaitRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A process the shim runs inside a task's container ({@code Exec} with an exec id), with its own stdio. */
final class ShimExec implements ExecProcess {
    private static final Logger log = LoggerFactory.getLogger(ShimExec.class);

    private final ShimTask task;
    private final ShimClient client;
    private final ExecConfig config;
    private final Path fifoDir;
    private final CompletableFuture<ExitStatus> processExit = new CompletableFuture<>();
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    private TaskIO io;
    private volatile int pid;
    private volatile boolean started;
    private volatile boolean released;
    private ExitStatus deleted;

    ShimExec(ShimTask task, ShimClient client, ExecConfig config, Path fifoDir) {
        this.task = task;
        this.client = client;
        this.config = config;
        this.fifoDir = fifoDir;
    }

    private Duration timeout() {
        return task.runtime().rpcTimeout();
    }

    private String name() {
        return "exec " + config.execId() + " of task " + task.namespace() + "/" + task.id();
    }

    /** Sends Exec with {@code process} as the OCI Process JSON and watches the exit from then on. */
    void create(Process process) {
        try {
            io = TaskIO.create(fifoDir, config.stdio(), config.terminal(), this::closeStdinAfterInput);
            io.startReaders(task.runtime().ioThreads());
            Any spec = Any.newBuilder().setTypeUrl(ShimTask.PROCESS_TYPE)
                    .setValue(ByteString.copyFrom(RuntimeSpecJson.toJson(process))).build();
            ShimClient.await(client.exec(ExecProcessRequest.newBuilder()
                    .setId(task.id())
                    .setExecId(config.execId())
                    .setTerminal(config.terminal())
                    .setStdin(io.stdin())
                    .setStdout(io.stdout())
                    .setStderr(io.stderr())
                    .setSpec(spec)
                    .build(), timeout()));
        } catch (RuntimeException | IOException e) {
            release();
            if (e instanceof IOException io) {
                throw new BerthException("cannot create " + name() + ": " + io.getMessage(), io);
            }
            throw (RuntimeException) e;
        }
        client.waitFor(WaitRequest.newBuilder().setId(task.id()).setExecId(config.execId()).build(), null)
                .whenComplete((r, e) -> {
                    if (r != null) {
                        processExited(ShimTask.exitStatus(r));
                    }
                });
        processExit.thenCompose(status -> io.drained()
                        .completeOnTimeout(null, ShimTask.DRAIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                        .thenApply(v -> status))
                .whenCompleteAsync((status, error) -> {
                    if (status != null) {
                        exit.complete(status);
                    } else {
                        exit.completeExceptionally(error);
                    }
                }, task.runtime().callbackExecutor());
        io.startWriter(task.runtime().ioThreads());
    }

    void processExited(ExitStatus status) {
        processExit.complete(status);
    }

    private void closeStdinAfterInput() {
        try {
            if (client.isOpen() && !released) {
                ShimClient.await(client.closeIO(CloseIORequest.newBuilder().setId(task.id()).setExecId(config.execId())
                        .setStdin(true).build(), timeout()));
            }
        } catch (BerthException e) {
            log.debug("closing stdin of {} after its input ended: {}", name(), e.toString());
        }
    }

    private void checkOpen() {
        if (released) {
            throw new FailedPreconditionException(name() + " was deleted or closed");
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
        pid = ShimClient.await(client.start(StartRequest.newBuilder().setId(task.id()).setExecId(config.execId()).build(),
                timeout())).getPid();
        started = true;
    }

    @Override
    public void kill(int signal) {
        checkOpen();
        ShimTask.checkSignal(signal);
        ShimClient.await(client.kill(KillRequest.newBuilder().setId(task.id()).setExecId(config.execId())
                .setSignal(signal).build(), timeout()));
    }

    @Override
    public boolean isAlive() {
        return !processExit.isDone();
    }

    @Override
    public ExitStatus waitFor() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            throw ShimTask.unwrap(e);
        }
    }

    @Override
    public Optional<ExitStatus> waitFor(Duration timeout) throws InterruptedException {
        try {
            return Optional.of(exit.get(timeout.toNanos(), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (ExecutionException e) {
            throw ShimTask.unwrap(e);
        }
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
        return exit.copy();
    }

    @Override
    public void closeStdin() {
        checkOpen();
        io.closeStdin();
        ShimClient.await(client.closeIO(CloseIORequest.newBuilder().setId(task.id()).setExecId(config.execId())
                .setStdin(true).build(), timeout()));
    }

    @Override
    public void resizePty(int columns, int rows) {
        checkOpen();
        ShimClient.await(client.resizePty(ShimTask.resizeRequest(task.id(), config.execId(), columns, rows), timeout()));
    }

    @Override
    public synchronized ExitStatus delete() {
        if (deleted != null) {
            return deleted;
        }
        checkOpen();
        if (started && !processExit.isDone()) {
            throw new FailedPreconditionException(name() + " is still running; kill it first");
        }
        DeleteResponse r = null;
        try {
            r = ShimClient.await(client.delete(DeleteRequest.newBuilder().setId(task.id()).setExecId(config.execId())
                    .build(), timeout()));
        } catch (NotFoundException e) {
            log.debug("{} was already gone from the shim", name());
        } catch (UnavailableException e) {
            if (client.isOpen()) {
                throw e;
            }
        }
        ExitStatus status = r != null
                ? new ExitStatus(r.getExitStatus(), r.hasExitedAt() ? ShimEventDecoder.instant(r.getExitedAt()) : Instant.now())
                : processExit.getNow(new ExitStatus(255, Instant.now()));
        processExit.complete(status);
        try {
            exit.get(ShimTask.DRAIN_TIMEOUT_MS + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.debug("output of {} not fully drained: {}", name(), e.toString());
        }
        release();
        deleted = status;
        return status;
    }

    /** Frees this JVM's side (pumps, FIFOs). Idempotent. */
    void release() {
        released = true;
        task.forgetExec(this);
        if (io != null) {
            try {
                io.close();
            } catch (IOException e) {
                log.warn("cannot remove stdio FIFOs of {}: {}", name(), e.toString());
            }
        }
        exit.completeExceptionally(new CanceledException(name() + " was released"));
    }

    @Override
    public void close() {
        if (!released) {
            release();
        }
    }

    @Override
    public String toString() {
        return "Exec[" + config.execId() + " in " + task.namespace() + "/" + task.id() + ", pid " + pid + "]";
    }
}
