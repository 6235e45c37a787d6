package dev.berth.cri;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cri.internal.streaming.StreamBackend;
import dev.berth.cri.internal.streaming.StreamRequest;
import dev.berth.cri.internal.streaming.StreamingServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The SPDY stream layer against a backend of plain JVM code (no containers): framing, streams, status. */
class SpdyStreamingTest {
    private final StreamingServer server = StreamingServer.start(new StreamingServer.Settings(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Duration.ofMinutes(1), Duration.ofMinutes(1)),
            new EchoBackend());

    @AfterEach
    void close() {
        server.close();
    }

    /** "Processes" that copy stdin to stdout in upper case, then write "bye" and exit with stdin's length. */
    static final class EchoBackend implements StreamBackend {
        @Override
        public Session exec(StreamRequest.Exec request, InputStream stdin, OutputStream stdout, OutputStream stderr) {
            CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> {
                try {
                    byte[] in = stdin == null ? new byte[0] : stdin.readAllBytes();
                    stdout.write(new String(in, StandardCharsets.UTF_8).toUpperCase().getBytes(StandardCharsets.UTF_8));
                    stdout.write("bye\n".getBytes(StandardCharsets.UTF_8));
                    if (stderr != null) {
                        stderr.write("err\n".getBytes(StandardCharsets.UTF_8));
                    }
                    return in.length;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            return new Session() {
                @Override
                public CompletableFuture<Integer> exit() {
                    return exit;
                }

                @Override
                public void resize(int columns, int rows) {
                }

                @Override
                public void end() {
                }
            };
        }

        @Override
        public Session attach(StreamRequest.Attach request, InputStream stdin, OutputStream stdout, OutputStream stderr) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<String> portForwardRelay(String sandboxId, int port) {
            return List.of("cat");
        }
    }

    @Test
    void anExecStreamsStdinThroughAndEndsWithItsStatus() {
        String url = server.url(new StreamRequest.Exec("c1", List.of("x"), false, true, true, true));
        SpdyStreamClient c = SpdyStreamClient.open(url, "v4.channel.k8s.io");
        assertThat(c.status).isEqualTo(101);
        Map<String, Integer> s = c.processStreams(List.of("stdin", "stdout", "stderr"));
        c.send(s.get("stdin"), "hello");
        c.finish(s.get("stdin"));
        c.awaitClose();
        assertThat(c.text(s.get("stdout"))).isEqualTo("HELLObye\n");
        assertThat(c.text(s.get("stderr"))).isEqualTo("err\n");
        assertThat(c.text(s.get("error"))).contains("NonZeroExitCode").contains("\"message\":\"5\"");
    }

    @Test
    void aPortForwardPairRelaysBothWays() {
        String url = server.url(new StreamRequest.PortForward("pod", List.of(80)));
        SpdyStreamClient c = SpdyStreamClient.open(url, "portforward.k8s.io");
        int error = c.stream(Map.of("streamType", "error", "port", "80", "requestID", "1"), true);
        int data = c.stream(Map.of("streamType", "data", "port", "80", "requestID", "1"), false);
        c.send(data, "ping");
        c.finish(data);
        c.awaitFinished(data);
        assertThat(c.text(data)).isEqualTo("ping");
        assertThat(c.text(error)).isEmpty();
        c.close();
    }
}
