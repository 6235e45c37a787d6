package dev.berth.runtime.internal;

import com.google.protobuf.Empty;
import com.google.protobuf.MessageLite;
import dev.berth.runtime.internal.proto.task.ConnectResponse;
import dev.berth.runtime.internal.proto.task.CreateTaskResponse;
import dev.berth.runtime.internal.proto.task.DeleteResponse;
import dev.berth.runtime.internal.proto.task.KillRequest;
import dev.berth.runtime.internal.proto.task.ShutdownRequest;
import dev.berth.runtime.internal.proto.task.StartResponse;
import dev.berth.runtime.internal.proto.task.StateResponse;
import dev.berth.runtime.internal.proto.task.WaitResponse;
import dev.berth.runtime.internal.proto.types.Status;
import dev.berth.runtime.ttrpc.internal.EpollLoop;
import dev.berth.runtime.ttrpc.internal.TtrpcServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A shim for failure-path tests, without root and without runc: a shell script that answers the shim
 * binary's {@code start} (printing the address of a {@link TtrpcServer} in this JVM) and {@code delete}
 * (recording the call, printing a {@code DeleteResponse} with exit status 137, as the runc shim does), and
 * that server, which serves {@code containerd.task.v2.Task} for one task with a process that "runs" until
 * killed. Each method can be made to hang or to answer garbage; {@link #die()} is the shim process dying.
 */
final class FakeShim implements AutoCloseable {
    static final int TASK_PID = 4242;
    private static final byte[] GARBAGE = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};

    private final Path dir;
    private final Path socket;
    private final Path binary;
    private final EpollLoop loop = EpollLoop.start("fake-shim", 1);
    private final ExecutorService handlers = Executors.newCachedThreadPool();
    private final TtrpcServer server;
    /** Method names in the order the calls arrived. */
    final List<String> calls = new CopyOnWriteArrayList<>();
    final CompletableFuture<ShutdownRequest> shutdown = new CompletableFuture<>();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final Map<String, String> misbehaviour = new ConcurrentHashMap<>();
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile boolean created;
    private volatile boolean started;

    /** A fake shim in {@code dir}; {@code startHook} is shell run in the bundle before {@code start} answers. */
    FakeShim(Path dir, String startHook) throws IOException {
        this.dir = dir;
        this.socket = dir.resolve("shim.sock");
        this.binary = dir.resolve("containerd-shim-fake-v1");
        Files.writeString(binary, "#!/bin/sh\n"
                + "for a; do action=$a; done\n"
                + "case \"$action\" in\n"
                + "start) " + startHook + "\n"
                + "  printf 'unix://%s' '" + socket + "' > address\n"
                + "  printf 'unix://%s' '" + socket + "' ;;\n"
                + "delete) echo delete >> '" + actions() + "'\n"
                // DeleteResponse{exit_status: 137}: field 2, varint 0x89 0x01
                + "  printf '\\020\\211\\001' ;;\n"
                + "esac\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwxr-xr-x"));
        TtrpcServer.Builder b = TtrpcServer.builder().executor(handlers);
        for (String method : List.of("Connect", "Create", "Start", "State", "Wait", "Kill", "Delete", "Shutdown",
                "Pids", "CloseIO")) {
            b.register(ShimClient.SERVICE, method, (call, payload) -> handle(method, payload));
        }
        this.server = b.bind(loop.group(), socket);
    }

    FakeShim(Path dir) throws IOException {
        this(dir, ":");
    }

    /** The shim binary, to name as the task's runtime. */
    Path binary() {
        return binary;
    }

    /** Where the script records its {@code delete} actions, one line each. */
    Path actions() {
        return dir.resolve("actions");
    }

    List<String> deleteActions() throws IOException {
        return Files.exists(actions()) ? Files.readAllLines(actions()) : List.of();
    }

    /** {@code method} never answers (until the fake is closed). */
    FakeShim hang(String method) {
        misbehaviour.put(method, "hang");
        return this;
    }

    /** {@code method} answers bytes that are no protobuf message. */
    FakeShim garbage(String method) {
        misbehaviour.put(method, "garbage");
        return this;
    }

    /** The shim process dies: every connection drops and the socket goes away. */
    void die() {
        server.close();
    }

    private byte[] handle(String method, byte[] payload) throws Exception {
        calls.add(method);
        String how = misbehaviour.getOrDefault(method, "");
        if (how.equals("hang")) {
            released.await();
            return Empty.getDefaultInstance().toByteArray();
        }
        if (how.equals("garbage")) {
            return GARBAGE;
        }
        MessageLite reply = switch (method) {
            case "Connect" -> ConnectResponse.newBuilder().setTaskPid(created ? TASK_PID : 0).build();
            case "Create" -> {
                created = true;
                yield CreateTaskResponse.newBuilder().setPid(TASK_PID).build();
            }
            case "Start" -> {
                started = true;
                yield StartResponse.newBuilder().setPid(TASK_PID).build();
            }
            case "State" -> StateResponse.newBuilder().setPid(TASK_PID)
                    .setStatus(exit.isDone() ? Status.STOPPED : started ? Status.RUNNING : Status.CREATED)
                    .setExitStatus(exit.getNow(0)).build();
            case "Wait" -> WaitResponse.newBuilder().setExitStatus(exit.get()).build();
            case "Kill" -> {
                exit.complete(128 + KillRequest.parseFrom(payload).getSignal());
                yield Empty.getDefaultInstance();
            }
            case "Delete" -> DeleteResponse.newBuilder().setPid(TASK_PID).setExitStatus(exit.getNow(0)).build();
            case "Shutdown" -> {
                shutdown.complete(ShutdownRequest.parseFrom(payload));
                yield Empty.getDefaultInstance();
            }
            default -> Empty.getDefaultInstance();
        };
        return reply.toByteArray();
    }

    @Override
    public void close() {
        released.countDown();
        exit.complete(255);
        server.close();
        handlers.shutdownNow();
        loop.close();
    }
}
