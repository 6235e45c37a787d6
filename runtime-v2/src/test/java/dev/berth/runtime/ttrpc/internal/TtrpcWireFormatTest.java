package dev.berth.runtime.ttrpc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.runtime.internal.proto.task.ConnectRequest;
import java.io.ByteArrayOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pins the bytes the client puts on the wire to the documented ttrpc worked example. */
class TtrpcWireFormatTest {
    private static EpollLoop loop;

    @TempDir
    Path dir;

    @BeforeAll
    static void startLoop() {
        loop = EpollLoop.start("ttrpc-wire-test", 1);
    }

    @AfterAll
    static void stopLoop() {
        loop.close();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static final HexFormat HEX = HexFormat.of();

    /** Captures exactly {@code n} bytes the client sends for the calls made by {@code calls}. */
    private byte[] capture(Map<String, String> metadata, int n, java.util.function.Consumer<TtrpcClient> calls)
            throws Exception {
        Path socket = dir.resolve("raw.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            try (TtrpcClient client = TtrpcClient.connect(loop.group(), socket, metadata, Duration.ofSeconds(5));
                 SocketChannel peer = server.accept()) {
                calls.accept(client);
                ByteBuffer buf = ByteBuffer.allocate(n);
                while (buf.hasRemaining()) {
                    if (peer.read(buf) < 0) {
                        break;
                    }
                }
                return buf.array();
            }
        }
    }

    @Test
    void connectRequestMatchesDocumentedFrameBytes() throws Exception {
        byte[] payload = ConnectRequest.newBuilder().setId("c1").build().toByteArray();
        assertThat(HEX.formatHex(payload)).isEqualTo("0a026331");

        byte[] request = concat(HEX.parseHex("0a17"), ascii("containerd.task.v2.Task"), HEX.parseHex("1207"),
                ascii("Connect"), HEX.parseHex("1a040a026331"));
        assertThat(request).hasSize(40);
        byte[] expected = concat(HEX.parseHex("00000028" + "00000001" + "01" + "00"), request);

        byte[] wire = capture(Map.of(), expected.length,
                c -> c.call("containerd.task.v2.Task", "Connect", payload, null));

        assertThat(HEX.formatHex(wire)).isEqualTo(HEX.formatHex(expected));
    }

    @Test
    void namespaceMetadataIsAppendedAsDocumented() throws Exception {
        byte[] payload = ConnectRequest.newBuilder().setId("c1").build().toByteArray();
        byte[] metadata = concat(HEX.parseHex("2a250a1a"), ascii("containerd-namespace-ttrpc"), HEX.parseHex("1207"),
                ascii("default"));
        assertThat(metadata).hasSize(39);
        byte[] request = concat(HEX.parseHex("0a17"), ascii("containerd.task.v2.Task"), HEX.parseHex("1207"),
                ascii("Connect"), HEX.parseHex("1a040a026331"), metadata);
        byte[] expected = concat(HEX.parseHex("0000004f" + "00000001" + "01" + "00"), request);

        byte[] wire = capture(Map.of("containerd-namespace-ttrpc", "default"), expected.length,
                c -> c.call("containerd.task.v2.Task", "Connect", payload, null));

        assertThat(HEX.formatHex(wire)).isEqualTo(HEX.formatHex(expected));
    }

    @Test
    void streamIdsAreOddAndStepByTwo() throws Exception {
        byte[] payload = new byte[0];
        // Each request: header(10) + Request{service "s" (3 B), method "m" (3 B)} = 16 bytes.
        byte[] wire = capture(Map.of(), 48, c -> {
            c.call("s", "m", payload, null);
            c.call("s", "m", payload, null);
            c.call("s", "m", payload, null);
        });
        ByteBuffer buf = ByteBuffer.wrap(wire);
        for (int expectedId : new int[] {1, 3, 5}) {
            int length = buf.getInt();
            int streamId = buf.getInt();
            byte type = buf.get();
            byte flags = buf.get();
            buf.position(buf.position() + length);
            assertThat(streamId).isEqualTo(expectedId);
            assertThat(type).isEqualTo(Frame.TYPE_REQUEST);
            assertThat(flags).isZero();
        }
    }

    @Test
    void deadlineIsSentAsTimeoutNano() throws Exception {
        byte[] wire = capture(Map.of(), 10 + 12, c -> c.call("s", "m", new byte[0], Duration.ofSeconds(2)));
        // Request{service "s", method "m", timeout_nano 2e9} -> field 4 varint 2,000,000,000
        byte[] varint = HEX.parseHex("2080a8d6b907");
        assertThat(HEX.formatHex(wire)).endsWith(HEX.formatHex(varint));
    }
}
