package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskStatus;
import dev.berth.runtime.internal.ShimRuntime;
import dev.berth.runtime.internal.proto.events.TaskExit;
import dev.berth.runtime.internal.proto.eventsvc.Envelope;
import dev.berth.runtime.internal.proto.eventsvc.ForwardRequest;
import dev.berth.runtime.internal.proto.ttrpc.Request;
import dev.berth.runtime.testing.RuncSpec;
import dev.berth.runtime.ttrpc.internal.EpollLoop;
import dev.berth.runtime.ttrpc.internal.TtrpcClient;
import dev.berth.runtime.ttrpc.internal.TtrpcServer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Who may talk to the events socket, and what a forged exit event achieves (nothing). */
class EventsSocketPeersIT extends LiveRuntimeTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    EventsSocketPeersIT() {
        super("berth-it-peers", "p-");
    }

    private static ForwardRequest exitOf(String namespace, String id, int status) {
        return ForwardRequest.newBuilder().setEnvelope(Envelope.newBuilder()
                .setTimestamp(Timestamp.newBuilder().setSeconds(1_700_000_000))
                .setNamespace(namespace)
                .setTopic("/tasks/exit")
                .setEvent(Any.newBuilder().setTypeUrl("containerd.events.TaskExit")
                        .setValue(TaskExit.newBuilder().setContainerId(id).setId(id).setPid(1).setExitStatus(status)
                                .build().toByteString())))
                .build();
    }

    @Test
    void forgedExitOfARunningTaskIsIgnoredAndTheRealOneStillCounts() throws Exception {
        String id = newId();
        Task task = runtime.create(TaskConfig.builder(id).namespace(namespace)
                .spec(RuncSpec.of("sleep", "60").root(rootfs.toString()).toJson()).build());
        task.start();
        try (EpollLoop loop = EpollLoop.start("forger", 1);
             TtrpcClient forger = TtrpcClient.connect(loop.group(), state.resolve("events.sock"), Map.of(),
                     Duration.ofSeconds(5))) {
            // the reply comes after the server handled the event
            forger.call(ShimRuntime.EVENTS_SERVICE, "Forward", exitOf(namespace, id, 0), Empty.parser(),
                    Duration.ofSeconds(10)).get(10, TimeUnit.SECONDS);
        }

        assertThat(task.onExit()).isNotDone();
        assertThat(task.state().status()).isEqualTo(TaskStatus.RUNNING);

        task.kill(9, false);
        assertThat(task.onExit().get(30, TimeUnit.SECONDS).code()).isEqualTo(137);
        task.delete();
    }

    @Test
    void connectionsFromAnotherUserAreRefused() throws Exception {
        assumeThat(PYTHON).as("a python3 to play the other user").isExecutable();
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "ttrpc-peer-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        Path socket = dir.resolve("s.sock");
        AtomicInteger calls = new AtomicInteger();
        try (EpollLoop loop = EpollLoop.start("peer-test", 1);
             TtrpcServer server = TtrpcServer.builder().register("svc", "Echo", (ctx, payload) -> {
                 calls.incrementAndGet();
                 return payload;
             }).bind(loop.group(), socket)) {
            // as if the mode let everyone connect: the peer's credentials must still be checked
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            String frame = HexFormat.of().formatHex(requestFrame());

            assertThat(talk(socket, frame, true)).isEqualTo("closed");
            assertThat(calls).hasValue(0);
            assertThat(talk(socket, frame, false)).isEqualTo("answered"); // the same script, as this user
            assertThat(calls).hasValue(1);
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    private static byte[] requestFrame() {
        byte[] payload = Request.newBuilder().setService("svc").setMethod("Echo")
                .setPayload(com.google.protobuf.ByteString.copyFromUtf8("hi")).build().toByteArray();
        return ByteBuffer.allocate(10 + payload.length).putInt(payload.length).putInt(1).put((byte) 1).put((byte) 0)
                .put(payload).array();
    }

    /** Connects as nobody (or this user), sends {@code frameHex} and says whether an answer came. */
    private static String talk(Path socket, String frameHex, boolean asNobody) throws Exception {
        String script = """
                import socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(10)
                try:
                    s.connect(sys.argv[1])
                    s.sendall(bytes.fromhex(sys.argv[2]))
                    print("answered" if len(s.recv(64)) > 0 else "closed")
                except (ConnectionResetError, BrokenPipeError):
                    print("closed")
                """;
        java.util.List<String> command = new java.util.ArrayList<>();
        if (asNobody) {
            command.addAll(java.util.List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
        }
        command.addAll(java.util.List.of(PYTHON.toString(), "-c", script, socket.toString(), frameHex));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    }
}
