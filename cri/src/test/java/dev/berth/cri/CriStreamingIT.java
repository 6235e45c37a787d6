package dev.berth.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.cri.internal.proto.AttachRequest;
import dev.berth.cri.internal.proto.ExecRequest;
import dev.berth.cri.internal.proto.PodSandboxConfig;
import dev.berth.cri.internal.proto.PortForwardRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.http.WebSocketHandshakeException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Exec, Attach and PortForward through the streaming server, over WebSocket, against real containers. */
class CriStreamingIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static CriHarness h;
    private static String podId;
    private static PodSandboxConfig pod;
    private static String sleeper;

    @BeforeAll
    static void start() throws Exception {
        h = new CriHarness();
        pod = CriHarness.pod("stream-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff))).build();
        podId = h.runPod(pod);
        sleeper = h.createAndStart(podId, pod, CriHarness.container("sleeper", "sleep", "100000").build());
    }

    @AfterAll
    static void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    private static String execUrl(boolean tty, boolean stdin, boolean stderr, String... cmd) {
        return h.rt().exec(ExecRequest.newBuilder().setContainerId(sleeper).addAllCmd(List.of(cmd)).setTty(tty)
                .setStdin(stdin).setStdout(true).setStderr(stderr).build()).getUrl();
    }

    private static JsonNode status(K8sStreamClient c) throws Exception {
        return JSON.readTree(c.bytes(3));
    }

    @Nested
    class Exec {
        @Test
        void streamsStdoutAndStderrApartAndReportsTheExitCodeOnTheErrorChannel() throws Exception {
            String url = execUrl(false, false, true, "sh", "-c", "echo out; echo err >&2; exit 3");
            assertThat(url).matches("http://127\\.0\\.0\\.1:\\d+/exec/[A-Za-z0-9_-]+");
            K8sStreamClient c = K8sStreamClient.open(url, "v5.channel.k8s.io", "v4.channel.k8s.io");
            assertThat(c.ws.getSubprotocol()).isEqualTo("v5.channel.k8s.io");
            c.awaitClose();
            assertThat(c.text(1)).isEqualTo("out\n");
            assertThat(c.text(2)).isEqualTo("err\n");
            JsonNode s = status(c);
            assertThat(s.path("status").asText()).isEqualTo("Failure");
            assertThat(s.path("reason").asText()).isEqualTo("NonZeroExitCode");
            assertThat(s.path("details").path("causes").get(0).path("reason").asText()).isEqualTo("ExitCode");
            assertThat(s.path("details").path("causes").get(0).path("message").asText()).isEqualTo("3");
        }

        @Test
        void aZeroExitIsSuccessOnV4() throws Exception {
            K8sStreamClient c = K8sStreamClient.open(execUrl(false, false, true, "echo", "hi"), "v4.channel.k8s.io");
            assertThat(c.ws.getSubprotocol()).isEqualTo("v4.channel.k8s.io");
            c.awaitClose();
            assertThat(c.text(1)).isEqualTo("hi\n");
            assertThat(status(c).path("status").asText()).isEqualTo("Success");
        }

        @Test
        void tenMebibytesOfStdinComeBackByteExact() throws Exception {
            byte[] data = new byte[10 << 20];
            new Random(42).nextBytes(data);
            K8sStreamClient c = K8sStreamClient.open(execUrl(false, true, false, "cat"), "v5.channel.k8s.io");
            for (int off = 0; off < data.length; off += 32 << 10) {
                c.send(0, Arrays.copyOfRange(data, off, Math.min(data.length, off + (32 << 10))));
            }
            c.send(255, new byte[] {0}); // v5: stdin is done
            c.awaitClose();
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] back = c.bytes(1);
            assertThat(back.length).isEqualTo(data.length);
            assertThat(sha.digest(back)).isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
            assertThat(status(c).path("status").asText()).isEqualTo("Success");
        }

        @Test
        void aTerminalFollowsTheClientsResize() {
            K8sStreamClient c = K8sStreamClient.open(execUrl(true, true, false, "sh", "-c",
                    "while read x; do stty size; done"), "v5.channel.k8s.io");
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).until(() -> {
                c.send(4, "{\"Width\":123,\"Height\":45}");
                c.send(0, "\n");
                return c.text(1).contains("45 123");
            });
            c.send(0, new byte[] {4}); // ^D ends the loop through the terminal
            c.awaitClose();
            assertThat(c.text(2)).isEmpty();
        }

        /**
         * Fifty streams open at once, each talking to its own process. The processes are started one after
         * the other: fifty runc execs at the same instant in one shim outlast the shim's 30 s RPC deadline
         * on a loaded machine, which is the shim's limit, not the streams'.
         */
        @Test
        void fiftyConcurrentStreamsEachTalkToTheirOwnProcess() {
            List<K8sStreamClient> clients = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                K8sStreamClient c = K8sStreamClient.open(execUrl(false, true, false, "sh", "-c",
                        "echo up; read x; echo got-$x"), "v5.channel.k8s.io");
                Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> c.text(1).equals("up\n"));
                clients.add(c);
            }
            for (int i = 0; i < 50; i++) {
                clients.get(i).send(0, i + "\n");
                clients.get(i).send(255, new byte[] {0});
            }
            for (int i = 0; i < 50; i++) {
                clients.get(i).awaitClose();
                assertThat(clients.get(i).text(1)).isEqualTo("up\ngot-" + i + "\n");
            }
        }

        @Test
        void aClientGoingAwayMidStreamLeavesNoProcessAndNoStreamThreadBehind() {
            String marker = String.valueOf(ThreadLocalRandom.current().nextInt(100_000, 999_999));
            K8sStreamClient c = K8sStreamClient.open(execUrl(false, true, false, "sh", "-c",
                    "echo ready; exec sleep " + marker), "v5.channel.k8s.io");
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> c.text(1).equals("ready\n"));
            assertThat(sleepers(marker)).isEqualTo(1);
            c.ws.abort();
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> sleepers(marker) == 0);
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> Thread.getAllStackTraces().entrySet().stream()
                    .filter(e -> e.getKey().getName().startsWith("berth-cri-stream-"))
                    .noneMatch(e -> Arrays.stream(e.getValue())
                            .anyMatch(f -> f.getClassName().startsWith("dev.berth.cri.internal"))));
        }

        /** Processes whose argv is {@code sleep <marker>} (read from /proc: the JDK shows the executable's path). */
        private static long sleepers(String marker) {
            byte[] want = ("sleep\0" + marker + "\0").getBytes(StandardCharsets.US_ASCII);
            return ProcessHandle.allProcesses().filter(p -> {
                try {
                    return Arrays.equals(Files.readAllBytes(Path.of("/proc", String.valueOf(p.pid()), "cmdline")), want);
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        }
    }

    @Nested
    class Tokens {
        @Test
        void aUsedTokenIsRefused() {
            String url = execUrl(false, false, false, "true");
            K8sStreamClient.open(url, "v5.channel.k8s.io").awaitClose();
            assertThat(handshakeStatus(url)).isEqualTo(404);
        }

        @Test
        void anExpiredTokenIsRefused() {
            Instant issued = Instant.now();
            String url = execUrl(false, false, false, "true");
            Awaitility.await().atMost(CriHarness.STREAM_TOKEN_TTL.plusSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> Instant.now().isAfter(issued.plus(CriHarness.STREAM_TOKEN_TTL).plusSeconds(1)));
            assertThat(handshakeStatus(url)).isEqualTo(404);
        }

        @Test
        void theRpcsRejectWhatCannotBeStreamed() {
            assertThat(code(() -> h.rt().exec(ExecRequest.newBuilder().setContainerId(sleeper).addCmd("true")
                    .setTty(true).setStdout(true).setStderr(true).build()))).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(code(() -> h.rt().attach(AttachRequest.newBuilder().setContainerId(sleeper).setStdin(true)
                    .build()))).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(code(() -> h.rt().portForward(PortForwardRequest.newBuilder().setPodSandboxId(podId)
                    .addPort(70000).build()))).isEqualTo(Status.Code.INVALID_ARGUMENT);
        }

        private static int handshakeStatus(String url) {
            Throwable t = catchThrowable(() -> K8sStreamClient.open(url, "v5.channel.k8s.io"));
            while (t instanceof CompletionException && t.getCause() != null) {
                t = t.getCause();
            }
            assertThat(t).isInstanceOf(WebSocketHandshakeException.class);
            return ((WebSocketHandshakeException) t).getResponse().statusCode();
        }

        private static Status.Code code(Runnable call) {
            try {
                call.run();
                return Status.Code.OK;
            } catch (StatusRuntimeException e) {
                return e.getStatus().getCode();
            }
        }
    }

    @Test
    void attachFeedsAContainersStdinAndStreamsItsOutput() {
        String id = h.createAndStart(podId, pod, CriHarness.container("cat-" + ThreadLocalRandom.current().nextInt(1 << 20),
                "cat").setStdin(true).build());
        String url = h.rt().attach(AttachRequest.newBuilder().setContainerId(id).setStdin(true).setStdout(true)
                .setStderr(true).build()).getUrl();
        assertThat(url).contains("/attach/");
        K8sStreamClient c = K8sStreamClient.open(url, "v5.channel.k8s.io");
        c.send(0, "hello attach\n");
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> c.text(1).equals("hello attach\n"));
        c.ws.sendClose(1000, "").join();
        c.awaitClose();
        // the container keeps running after the client leaves (not stdin_once)
        assertThat(h.status(id).getState().name()).isEqualTo("CONTAINER_RUNNING");
    }

    @Test
    void portForwardReachesALoopbackOnlyServerInThePodOverTwentyConcurrentConnections() {
        h.createAndStart(podId, pod, CriHarness.container("httpd", "sh", "-c",
                "mkdir -p /www && echo hello-pf > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www").build());
        Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                .until(() -> fetch().contains("hello-pf"));
        ExecutorService pool = Executors.newFixedThreadPool(20);
        try {
            List<CompletableFuture<String>> got = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                got.add(CompletableFuture.supplyAsync(CriStreamingIT::fetch, pool));
            }
            for (CompletableFuture<String> f : got) {
                assertThat(f.join()).startsWith("HTTP/1.").contains("hello-pf");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** One HTTP request through a port-forward stream; what came back on the data channel after the port. */
    private static String fetch() {
        String url = h.rt().portForward(PortForwardRequest.newBuilder().setPodSandboxId(podId).addPort(8080).build())
                .getUrl();
        K8sStreamClient c = K8sStreamClient.open(url + "?port=8080", "v4.channel.k8s.io");
        c.send(0, "GET /index.html HTTP/1.0\r\n\r\n");
        c.awaitClose();
        List<byte[]> data = c.messages(0);
        List<byte[]> errors = c.messages(1);
        assertThat(data.get(0)).containsExactly(0x90, 0x1f); // 8080, little endian
        assertThat(errors.get(0)).containsExactly(0x90, 0x1f);
        StringBuilder body = new StringBuilder();
        for (byte[] m : data.subList(1, data.size())) {
            body.append(new String(m, StandardCharsets.ISO_8859_1));
        }
        return body.toString();
    }
}
