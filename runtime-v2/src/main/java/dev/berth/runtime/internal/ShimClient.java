package dev.berth.runtime.internal;

import com.google.protobuf.Empty;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.berth.api.BerthException;
import dev.berth.api.CanceledException;
import dev.berth.runtime.internal.proto.task.CheckpointTaskRequest;
import dev.berth.runtime.internal.proto.task.CloseIORequest;
import dev.berth.runtime.internal.proto.task.ConnectRequest;
import dev.berth.runtime.internal.proto.task.ConnectResponse;
import dev.berth.runtime.internal.proto.task.CreateTaskRequest;
import dev.berth.runtime.internal.proto.task.CreateTaskResponse;
import dev.berth.runtime.internal.proto.task.DeleteRequest;
import dev.berth.runtime.internal.proto.task.DeleteResponse;
import dev.berth.runtime.internal.proto.task.ExecProcessRequest;
import dev.berth.runtime.internal.proto.task.KillRequest;
import dev.berth.runtime.internal.proto.task.PauseRequest;
import dev.berth.runtime.internal.proto.task.PidsRequest;
import dev.berth.runtime.internal.proto.task.PidsResponse;
import dev.berth.runtime.internal.proto.task.ResizePtyRequest;
import dev.berth.runtime.internal.proto.task.ResumeRequest;
import dev.berth.runtime.internal.proto.task.ShutdownRequest;
import dev.berth.runtime.internal.proto.task.StartRequest;
import dev.berth.runtime.internal.proto.task.StartResponse;
import dev.berth.runtime.internal.proto.task.StateRequest;
import dev.berth.runtime.internal.proto.task.StateResponse;
import dev.berth.runtime.internal.proto.task.StatsRequest;
import dev.berth.runtime.internal.proto.task.StatsResponse;
import dev.berth.runtime.internal.proto.task.UpdateTaskRequest;
import dev.berth.runtime.internal.proto.task.WaitRequest;
import dev.berth.runtime.internal.proto.task.WaitResponse;
import dev.berth.runtime.ttrpc.internal.TtrpcClient;
import io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The {@code containerd.task.v2.Task} service of one shim, over ttrpc, with the task's namespace sent as
 * {@code containerd-namespace-ttrpc} on every call. All 17 RPCs; each takes its own deadline.
 */
public final class ShimClient implements AutoCloseable {
    public static final String SERVICE = "containerd.task.v2.Task";
    public static final String NAMESPACE_KEY = "containerd-namespace-ttrpc";

    private final TtrpcClient client;

    public ShimClient(TtrpcClient client) {
        this.client = client;
    }

    public static ShimClient connect(EventLoopGroup group, Path socket, String namespace, Duration timeout) {
        return new ShimClient(TtrpcClient.connect(group, socket, Map.of(NAMESPACE_KEY, namespace), timeout));
    }

    private <T> CompletableFuture<T> call(String method, MessageLite request, Parser<T> parser, Duration timeout) {
        return client.call(SERVICE, method, request, parser, timeout);
    }

    public CompletableFuture<StateResponse> state(StateRequest r, Duration t) {
        return call("State", r, StateResponse.parser(), t);
    }

    public CompletableFuture<CreateTaskResponse> create(CreateTaskRequest r, Duration t) {
        return call("Create", r, CreateTaskResponse.parser(), t);
    }

    public CompletableFuture<StartResponse> start(StartRequest r, Duration t) {
        return call("Start", r, StartResponse.parser(), t);
    }

    public CompletableFuture<DeleteResponse> delete(DeleteRequest r, Duration t) {
        return call("Delete", r, DeleteResponse.parser(), t);
    }

    public CompletableFuture<PidsResponse> pids(PidsRequest r, Duration t) {
        return call("Pids", r, PidsResponse.parser(), t);
    }

    public CompletableFuture<Empty> pause(PauseRequest r, Duration t) {
        return call("Pause", r, Empty.parser(), t);
    }

    public CompletableFuture<Empty> resume(ResumeRequest r, Duration t) {
        return call("Resume", r, Empty.parser(), t);
    }

    public CompletableFuture<Empty> checkpoint(CheckpointTaskRequest r, Duration t) {
        return call("Checkpoint", r, Empty.parser(), t);
    }

    public CompletableFuture<Empty> kill(KillRequest r, Duration t) {
        return call("Kill", r, Empty.parser(), t);
    }

    public CompletableFuture<Empty> exec(ExecProcessRequest r, Duration t) {
        return call("Exec", r, Empty.parser(), t);
    }

    public CompletableFuture<Empty> resizePty(ResizePtyRequest r, Duration t) {
        return call("ResizePty", r, Empty.parser(), t);
    }

    public CompletableFuture<Empty> closeIO(CloseIORequest r, Duration t) {
        return call("CloseIO", r, Empty.parser(), t);
    }

    public CompletableFuture<Empty> update(UpdateTaskRequest r, Duration t) {
        return call("Update", r, Empty.parser(), t);
    }

    /** Completes when the process exits; usually called without a deadline. */
    public CompletableFuture<WaitResponse> waitFor(WaitRequest r, Duration t) {
        return call("Wait", r, WaitResponse.parser(), t);
    }

    public CompletableFuture<StatsResponse> stats(StatsRequest r, Duration t) {
        return call("Stats", r, StatsResponse.parser(), t);
    }

    public CompletableFuture<ConnectResponse> connect(ConnectRequest r, Duration t) {
        return call("Connect", r, ConnectResponse.parser(), t);
    }

    public CompletableFuture<Empty> shutdown(ShutdownRequest r, Duration t) {
        return call("Shutdown", r, Empty.parser(), t);
    }

    public CompletableFuture<Void> closeFuture() {
        return client.closeFuture();
    }

    public boolean isOpen() {
        return client.isOpen();
    }

    @Override
    public void close() {
        client.close();
    }

    /** Waits for {@code future}, rethrowing a Berth exception as is. */
    public static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CanceledException("interrupted while waiting for the shim");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof BerthException be) {
                be.addSuppressed(new Exception("awaited here"));
                throw be;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new BerthException(String.valueOf(cause), cause);
        }
    }
}
