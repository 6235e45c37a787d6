package dev.berth.runtime.ttrpc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.BerthException;
import dev.berth.api.DeadlineExceededException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.StatusCode;
import dev.berth.api.UnavailableException;
import dev.berth.runtime.internal.proto.ttrpc.Request;
import dev.berth.runtime.internal.proto.ttrpc.Response;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TtrpcClientServerTest {
    private static EpollLoop loop;
    private static ExecutorService handlers;

    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeAll
    static void start() {
        loop = EpollLoop.start("ttrpc-test", 1);
        handlers = Executors.newCachedThreadPool();
    }

    @AfterAll
    static void stop() {
        handlers.shutdownNow();
        loop.close();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private TtrpcServer serve(TtrpcServer.Builder builder) {
        TtrpcServer server = builder.executor(handlers).bind(loop.group(), dir.resolve("t.sock"));
        toClose.add(server);
        return server;
    }

    private TtrpcClient connect(Map<String, String> metadata) {
        TtrpcClient client = TtrpcClient.connect(loop.group(), dir.resolve("t.sock"), metadata, Duration.ofSeconds(5));
        toClose.add(client);
        return client;
    }

    private static Throwable failure(CompletableFuture<?> f) {
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError("call did not fail but: " + e, e);
        }
        throw new AssertionError("call succeeded");
    }

    @Test
    void echoesPayloadAndPassesMetadata() throws Exception {
        serve(TtrpcServer.builder().register("svc", "Echo",
                (ctx, payload) -> utf8(ctx.first("containerd-namespace-ttrpc").orElse("?") + ":" + str(payload))));
        TtrpcClient client = connect(Map.of("containerd-namespace-ttrpc", "ns1"));

        byte[] reply = client.call("svc", "Echo", utf8("hello"), Duration.ofSeconds(5)).get(5, TimeUnit.SECONDS);

        assertThat(str(reply)).isEqualTo("ns1:hello");
    }

    @Test
    void manyConcurrentCallsEachGetTheirOwnResponse() throws Exception {
        serve(TtrpcServer.builder().register("svc", "Echo", (ctx, payload) -> payload));
        TtrpcClient client = connect(Map.of());
        List<CompletableFuture<byte[]>> calls = new ArrayList<>();
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<CompletableFuture<CompletableFuture<byte[]>>> submitted = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                String body = "call-" + i;
                submitted.add(CompletableFuture.supplyAsync(
                        () -> client.call("svc", "Echo", utf8(body), Duration.ofSeconds(10)), callers));
            }
            for (CompletableFuture<CompletableFuture<byte[]>> s : submitted) {
                calls.add(s.get(10, TimeUnit.SECONDS));
            }
            for (int i = 0; i < calls.size(); i++) {
                assertThat(str(calls.get(i).get(10, TimeUnit.SECONDS))).isEqualTo("call-" + i);
            }
        } finally {
            callers.shutdownNow();
        }
        assertThat(client.pendingCalls()).isZero();
    }

    @Test
    void responsesArrivingOutOfOrderAreMatchedById() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        serve(TtrpcServer.builder()
                .register("svc", "Slow", (ctx, payload) -> {
                    release.await(10, TimeUnit.SECONDS);
                    return utf8("slow");
                })
                .register("svc", "Fast", (ctx, payload) -> utf8("fast")));
        TtrpcClient client = connect(Map.of());

        CompletableFuture<byte[]> slow = client.call("svc", "Slow", new byte[0], Duration.ofSeconds(10));
        CompletableFuture<byte[]> fast = client.call("svc", "Fast", new byte[0], Duration.ofSeconds(10));

        assertThat(str(fast.get(5, TimeUnit.SECONDS))).isEqualTo("fast");
        assertThat(slow).isNotDone();
        release.countDown();
        assertThat(str(slow.get(5, TimeUnit.SECONDS))).isEqualTo("slow");
    }

    @Nested
    class Errors {
        @Test
        void unknownServiceAndMethodAreUnimplemented() {
            serve(TtrpcServer.builder().register("svc", "Echo", (ctx, payload) -> payload));
            TtrpcClient client = connect(Map.of());

            assertThat(failure(client.call("nope", "Echo", new byte[0], Duration.ofSeconds(5))))
                    .isInstanceOf(NotImplementedException.class).hasMessage("service nope");
            assertThat(failure(client.call("svc", "Nope", new byte[0], Duration.ofSeconds(5))))
                    .isInstanceOf(NotImplementedException.class).hasMessage("method Nope");
        }

        @Test
        void handlerExceptionsBecomeTypedExceptionsOnTheClient() {
            serve(TtrpcServer.builder()
                    .register("svc", "Missing", (ctx, payload) -> {
                        throw new NotFoundException("task x not found");
                    })
                    .register("svc", "Broken", (ctx, payload) -> {
                        throw new IllegalStateException("boom");
                    }));
            TtrpcClient client = connect(Map.of());

            assertThat(failure(client.call("svc", "Missing", new byte[0], Duration.ofSeconds(5))))
                    .isInstanceOf(NotFoundException.class).hasMessage("task x not found");
            Throwable broken = failure(client.call("svc", "Broken", new byte[0], Duration.ofSeconds(5)));
            assertThat(broken).isExactlyInstanceOf(BerthException.class).hasMessageContaining("boom");
        }

        @Test
        void deadlineFailsTheCallAndIsSentToTheServer() throws Exception {
            AtomicLong seenTimeout = new AtomicLong();
            CountDownLatch release = new CountDownLatch(1);
            serve(TtrpcServer.builder().register("svc", "Hang", (ctx, payload) -> {
                seenTimeout.set(ctx.timeoutNanos());
                release.await(10, TimeUnit.SECONDS);
                return new byte[0];
            }));
            TtrpcClient client = connect(Map.of());

            Throwable error = failure(client.call("svc", "Hang", new byte[0], Duration.ofMillis(200)));
            release.countDown();

            assertThat(error).isInstanceOf(DeadlineExceededException.class).hasMessageContaining("svc/Hang");
            assertThat(seenTimeout.get()).isEqualTo(Duration.ofMillis(200).toNanos());
            assertThat(client.pendingCalls()).isZero();
        }

        @Test
        void clientRefusesToSendAnOversizedRequest() {
            serve(TtrpcServer.builder().register("svc", "Echo", (ctx, payload) -> payload));
            TtrpcClient client = connect(Map.of());

            Throwable error = failure(client.call("svc", "Echo", new byte[Frame.MAX_PAYLOAD], Duration.ofSeconds(5)));

            assertThat(error).isInstanceOf(InvalidArgumentException.class).hasMessageContaining("4194304");
            assertThat(client.isOpen()).isTrue();
        }

        @Test
        void serverAnswersOversizedFrameWithResourceExhaustedAndKeepsServing() throws Exception {
            serve(TtrpcServer.builder().register("svc", "Echo", (ctx, payload) -> payload));
            try (SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                raw.connect(UnixDomainSocketAddress.of(dir.resolve("t.sock")));
                int size = Frame.MAX_PAYLOAD + 1;
                ByteBuffer header = ByteBuffer.allocate(10).putInt(size).putInt(7).put((byte) 1).put((byte) 0).flip();
                raw.write(header);
                ByteBuffer junk = ByteBuffer.allocate(64 * 1024);
                for (int sent = 0; sent < size; ) {
                    junk.clear().limit(Math.min(junk.capacity(), size - sent));
                    sent += raw.write(junk);
                }
                Frame answer = readFrame(raw);
                assertThat(answer.streamId()).isEqualTo(7);
                Response response = Response.parseFrom(answer.payload());
                assertThat(response.getStatus().getCode()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED.code());
                assertThat(response.getStatus().getMessage()).contains(Integer.toString(size)).contains("4194304");

                byte[] request = Request.newBuilder().setService("svc").setMethod("Echo")
                        .setPayload(com.google.protobuf.ByteString.copyFromUtf8("still here")).build().toByteArray();
                raw.write(ByteBuffer.allocate(10 + request.length).putInt(request.length).putInt(9)
                        .put((byte) 1).put((byte) 0).put(request).flip());
                Frame next = readFrame(raw);
                assertThat(next.streamId()).isEqualTo(9);
                assertThat(Response.parseFrom(next.payload()).getPayload().toStringUtf8()).isEqualTo("still here");
            }
        }

        @Test
        void evenStreamIdIsRejected() throws Exception {
            serve(TtrpcServer.builder().register("svc", "Echo", (ctx, payload) -> payload));
            try (SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                raw.connect(UnixDomainSocketAddress.of(dir.resolve("t.sock")));
                byte[] request = Request.newBuilder().setService("svc").setMethod("Echo").build().toByteArray();
                raw.write(ByteBuffer.allocate(10 + request.length).putInt(request.length).putInt(2)
                        .put((byte) 1).put((byte) 0).put(request).flip());
                Frame answer = readFrame(raw);
                assertThat(Response.parseFrom(answer.payload()).getStatus().getCode())
                        .isEqualTo(StatusCode.INVALID_ARGUMENT.code());
            }
        }

        @Test
        void connectionLossFailsPendingCallsWithUnavailable() throws Exception {
            CountDownLatch entered = new CountDownLatch(2);
            CountDownLatch release = new CountDownLatch(1);
            TtrpcServer server = serve(TtrpcServer.builder().register("svc", "Hang", (ctx, payload) -> {
                entered.countDown();
                release.await(10, TimeUnit.SECONDS);
                return new byte[0];
            }));
            TtrpcClient client = connect(Map.of());
            CompletableFuture<byte[]> first = client.call("svc", "Hang", new byte[0], null);
            CompletableFuture<byte[]> second = client.call("svc", "Hang", new byte[0], null);
            assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();

            server.close();

            assertThat(failure(first)).isInstanceOf(UnavailableException.class).hasMessageContaining("closed");
            assertThat(failure(second)).isInstanceOf(UnavailableException.class);
            assertThat(failure(client.call("svc", "Hang", new byte[0], null))).isInstanceOf(UnavailableException.class);
            assertThat(client.isOpen()).isFalse();
            release.countDown();
        }

        @Test
        void shuttingDownTheClientsLoopFailsPendingCallsWithUnavailable() throws Exception {
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            serve(TtrpcServer.builder().register("svc", "Hang", (ctx, payload) -> {
                entered.countDown();
                release.await(30, TimeUnit.SECONDS);
                return new byte[0];
            }));
            // the runtime's situation: its loop closes while a call (with a long deadline) is in flight
            EpollLoop clientLoop = EpollLoop.start("ttrpc-client-test", 1);
            TtrpcClient client = TtrpcClient.connect(clientLoop.group(), dir.resolve("t.sock"), Map.of(),
                    Duration.ofSeconds(5));
            CompletableFuture<byte[]> pending = client.call("svc", "Hang", new byte[0], Duration.ofSeconds(60));
            assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();

            clientLoop.close();

            assertThat(failure(pending)).isInstanceOf(UnavailableException.class).hasMessageContaining("closed");
            assertThat(client.isOpen()).isFalse();
            release.countDown();
        }

        @Test
        void connectingToAMissingSocketIsUnavailable() {
            assertThatThrownBy(() -> TtrpcClient.connect(loop.group(), dir.resolve("none.sock"), Map.of(),
                    Duration.ofSeconds(2)))
                    .isInstanceOf(UnavailableException.class).hasMessageContaining("none.sock");
        }
    }

    @Nested
    class Buffers {
        @Test
        void connectionsUseUnpooledBuffersAndCarryALargePayloadBothWays() throws Exception {
            serve(TtrpcServer.builder().register("svc", "Echo", (ctx, payload) -> payload));
            TtrpcClient client = connect(Map.of());
            byte[] big = new byte[3 << 20];
            new java.util.Random(18).nextBytes(big);

            byte[] reply = client.call("svc", "Echo", big, Duration.ofSeconds(10)).get(10, TimeUnit.SECONDS);

            assertThat(client.allocator()).isSameAs(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT);
            assertThat(reply).isEqualTo(big);
        }

        @Test
        void theSwitchRestoresNettysDefaultAllocator() throws Exception {
            serve(TtrpcServer.builder().register("svc", "Echo", (ctx, payload) -> payload));
            System.setProperty(TtrpcBuffers.POOLED_PROPERTY, "true");
            TtrpcClient client;
            try {
                client = connect(Map.of());
            } finally {
                System.clearProperty(TtrpcBuffers.POOLED_PROPERTY);
            }

            assertThat(client.allocator()).isSameAs(io.netty.buffer.ByteBufAllocator.DEFAULT);
            assertThat(str(client.call("svc", "Echo", utf8("hi"), Duration.ofSeconds(5)).get(5, TimeUnit.SECONDS)))
                    .isEqualTo("hi");
        }
    }

    @Test
    void serverRemovesItsSocketOnClose() {
        TtrpcServer server = serve(TtrpcServer.builder().register("svc", "Echo", (ctx, payload) -> payload));
        assertThat(dir.resolve("t.sock")).exists();
        server.close();
        assertThat(Files.exists(dir.resolve("t.sock"))).isFalse();
    }

    private static Frame readFrame(SocketChannel raw) throws Exception {
        ByteBuffer header = ByteBuffer.allocate(10);
        readFully(raw, header);
        header.flip();
        int length = header.getInt();
        int id = header.getInt();
        byte type = header.get();
        byte flags = header.get();
        ByteBuffer payload = ByteBuffer.allocate(length);
        readFully(raw, payload);
        return new Frame(id, type, flags, payload.array());
    }

    private static void readFully(SocketChannel ch, ByteBuffer buf) throws Exception {
        while (buf.hasRemaining()) {
            if (ch.read(buf) < 0) {
                throw new CompletionException(new IllegalStateException("EOF"));
            }
        }
    }
}
