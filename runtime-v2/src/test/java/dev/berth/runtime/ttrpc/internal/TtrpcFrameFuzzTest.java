package dev.berth.runtime.ttrpc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BytesValue;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.runtime.internal.proto.ttrpc.Request;
import dev.berth.testing.fuzz.Fuzz;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzz target: the ttrpc frame decoder, on mutations of the frames in {@code fuzz/ttrpc-frame}. Fed in
 * random pieces, a stream decodes into frames that account for its bytes, or is refused; a live server
 * sent the same bytes keeps serving honest clients.
 */
class TtrpcFrameFuzzTest {
    private static Path dir;
    private static EpollLoop loop;
    private static TtrpcServer server;

    @BeforeContainer
    static void serve() throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "ttrpc-fuzz-");
        loop = EpollLoop.start("ttrpc-fuzz", 1);
        server = TtrpcServer.builder().register("svc", "Echo", (ctx, payload) -> payload)
                .bind(loop.group(), dir.resolve("s.sock"));
    }

    @AfterContainer
    static void stop() throws IOException {
        server.close();
        loop.close();
        Files.deleteIfExists(dir);
    }

    @Provide
    Arbitrary<byte[]> streams() {
        return Fuzz.mutated(Fuzz.corpus("ttrpc-frame"));
    }

    @Property(shrinking = net.jqwik.api.ShrinkingMode.BOUNDED)
    void decodesOrRefusesAndTheServerKeepsServing(@ForAll("streams") byte[] stream,
                                                   @ForAll @IntRange(min = 1, max = 64) int piece) throws Exception {
        Fuzz.check("ttrpc frame decoder", stream, () -> decode(stream, piece));

        try (SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            raw.connect(UnixDomainSocketAddress.of(server.socket()));
            raw.write(ByteBuffer.wrap(stream));
        } catch (IOException ignored) {
            // the server may close on garbage; what matters is the next client
        }
        try (TtrpcClient honest = TtrpcClient.connect(loop.group(), server.socket(), Map.of(), Duration.ofSeconds(5))) {
            BytesValue reply = honest.call("svc", "Echo", BytesValue.of(com.google.protobuf.ByteString.copyFromUtf8("ok")),
                    BytesValue.parser(), Duration.ofSeconds(5)).get(Fuzz.BOUND.toSeconds(), TimeUnit.SECONDS);
            assertThat(reply.getValue().toStringUtf8()).isEqualTo("ok");
        }
    }

    private static void decode(byte[] stream, int piece) throws InvalidProtocolBufferException {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder());
        try {
            for (int i = 0; i < stream.length; i += piece) {
                ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(stream, i, Math.min(stream.length, i + piece))));
            }
            long accounted = 0;
            Object msg;
            while ((msg = ch.readInbound()) != null) {
                if (msg instanceof Frame f) {
                    accounted += Frame.HEADER_LENGTH + f.payload().length;
                    if (f.type() == Frame.TYPE_REQUEST) {
                        try {
                            Request.parseFrom(f.payload());
                        } catch (InvalidProtocolBufferException e) {
                            // the server answers INVALID_ARGUMENT on that stream
                            throw new InvalidArgumentException("malformed request: " + e.getMessage(), e);
                        }
                    }
                } else {
                    assertThat(msg).isInstanceOf(OversizedFrame.class);
                    accounted += Frame.HEADER_LENGTH;
                }
            }
            assertThat(accounted).as("bytes decoded into frames").isLessThanOrEqualTo(stream.length);
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
