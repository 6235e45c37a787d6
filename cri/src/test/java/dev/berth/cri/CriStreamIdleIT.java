package dev.berth.cri;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cri.internal.proto.ExecRequest;
import dev.berth.cri.internal.proto.PodSandboxConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A stream that carries nothing either way for the idle timeout is closed and its process killed, on both transports. */
class CriStreamIdleIT {
    private static final Duration IDLE = Duration.ofMillis(1500);
    private static CriHarness h;
    private static String sleeper;

    @BeforeAll
    static void start() throws Exception {
        h = new CriHarness(IDLE);
        PodSandboxConfig pod = CriHarness.pod("idle-" + Integer.toHexString(ThreadLocalRandom.current()
                .nextInt(0x10000, 0xfffff))).build();
        String podId = h.runPod(pod);
        sleeper = h.createAndStart(podId, pod, CriHarness.container("sleeper", "sleep", "100000").build());
    }

    @AfterAll
    static void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    private static String quietExec(String marker) {
        return h.rt().exec(ExecRequest.newBuilder().setContainerId(sleeper)
                .addAllCmd(List.of("sh", "-c", "echo ready; exec sleep " + marker)).setStdin(true).setStdout(true)
                .build()).getUrl();
    }

    @Test
    void aQuietWebSocketStreamIsClosedAndItsProcessKilled() {
        String marker = String.valueOf(ThreadLocalRandom.current().nextInt(100_000, 999_999));
        K8sStreamClient c = K8sStreamClient.open(quietExec(marker), "v5.channel.k8s.io");
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> c.text(1).equals("ready\n"));
        long quietSince = System.nanoTime();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(c.closed::isDone);
        assertThat(Duration.ofNanos(System.nanoTime() - quietSince)).isGreaterThanOrEqualTo(IDLE.minusMillis(200));
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> CriSpdyStreamingIT.processes("sleep", marker) == 0);
    }

    @Test
    void aQuietSpdyStreamIsClosedAndItsProcessKilled() {
        String marker = String.valueOf(ThreadLocalRandom.current().nextInt(100_000, 999_999));
        SpdyStreamClient c = SpdyStreamClient.open(quietExec(marker), "v4.channel.k8s.io");
        Map<String, Integer> s = c.processStreams(List.of("stdin", "stdout"));
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> c.text(s.get("stdout")).equals("ready\n"));
        long quietSince = System.nanoTime();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(c.closed::isDone);
        assertThat(Duration.ofNanos(System.nanoTime() - quietSince)).isGreaterThanOrEqualTo(IDLE.minusMillis(200));
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> CriSpdyStreamingIT.processes("sleep", marker) == 0);
    }

    @Test
    void aStreamThatKeepsTalkingOutlivesTheIdleTimeout() {
        String url = h.rt().exec(ExecRequest.newBuilder().setContainerId(sleeper)
                .addAllCmd(List.of("sh", "-c", "while read x; do echo $x; done")).setStdin(true).setStdout(true)
                .build()).getUrl();
        K8sStreamClient c = K8sStreamClient.open(url, "v5.channel.k8s.io");
        long start = System.nanoTime();
        int[] n = {0};
        Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).until(() -> {
            c.send(0, "tick\n");
            n[0]++;
            return Duration.ofNanos(System.nanoTime() - start).compareTo(IDLE.multipliedBy(3)) > 0;
        });
        assertThat(c.closed).isNotDone();
        c.send(255, new byte[] {0});
        c.awaitClose();
        assertThat(c.text(1)).isEqualTo("tick\n".repeat(n[0]));
    }
}
