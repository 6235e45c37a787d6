package dev.berth.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.NotFoundException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Every wait strategy, passing and timing out (with the container's last log lines in the message). */
class WaitStrategiesIT {
    private static final String COUNTING = "for i in 1 2 3; do echo \"step $i\"; sleep 0.2; done; echo ready; exec sleep 600";

    private static BerthContainer<?> busybox() {
        return new BerthContainer<>(TestImages.busybox());
    }

    private static void assertRemoved(String id) {
        assertThatThrownBy(() -> BerthEnvironment.namespace().containers().get(id)).isInstanceOf(NotFoundException.class);
    }

    @Nested
    class Passing {
        @Test
        void logMessageSeenTheAskedNumberOfTimes() {
            try (var c = busybox().withCommand("sh", "-c", COUNTING).waitingFor(Wait.forLogMessage("step \\d", 3))) {
                c.start();
                assertThat(c.logLines()).contains("step 1", "step 2", "step 3");
            }
        }

        @Test
        void listeningPortInsideTheContainer() throws Exception {
            try (var c = busybox().withCommand(TestImages.WEB).withExposedPorts(8080)
                    .waitingFor(Wait.forListeningPort())) {
                c.start();
                assertThat(get(c, "/index.html")).isEqualTo("hello\n");
            }
        }

        @Test
        void httpStatusAndBodyThroughThePublishedPort() throws Exception {
            try (var c = busybox().withCommand(TestImages.WEB).withExposedPorts(8080)
                    .waitingFor(Wait.forHttp("/index.html").forPort(8080).forStatusCode(200).forResponseBody("hel+o"))) {
                c.start();
                assertThat(c.port(8080)).isPositive();
            }
        }

        @Test
        void exitCode() {
            try (var c = busybox().withCommand("sh", "-c", "echo done; exit 3").waitingFor(Wait.forExitCode(3))) {
                c.start();
                assertThat(c.exitCode()).hasValue(3);
                assertThat(c.logs()).isEqualTo("done\n");
            }
        }

        @Test
        void healthCommandAndAllOf() {
            try (var c = busybox().withCommand("sh", "-c", "sleep 0.5; touch /tmp/healthy; echo up; exec sleep 600")
                    .waitingFor(Wait.allOf(Wait.forHealthCommand("test", "-f", "/tmp/healthy"),
                            Wait.forLogMessage("^up$", 1)))) {
                c.start();
                assertThat(c.logLines()).containsExactly("up");
            }
        }
    }

    @Nested
    class Failing {
        @Test
        void logMessageTimeoutShowsTheLastLogLines() {
            var c = busybox().withCommand("sh", "-c", "echo booting; echo still booting; exec sleep 600")
                    .waitingFor(Wait.forLogMessage("never printed", 1)).withStartupTimeout(Duration.ofSeconds(2));
            assertThatThrownBy(c::start).isInstanceOf(ContainerLaunchException.class)
                    .hasMessageContaining("was not ready within 2000 ms")
                    .hasMessageContaining("log line matching 'never printed'")
                    .hasMessageContaining("booting\n  still booting");
            assertThat(c.isRunning()).isFalse();
        }

        @Test
        void listeningPortTimeout() {
            var c = busybox().withCommand("sh", "-c", "echo not listening; exec sleep 600").withExposedPorts(8080)
                    .withStartupTimeout(Duration.ofSeconds(2));
            assertThatThrownBy(c::start).isInstanceOf(ContainerLaunchException.class)
                    .hasMessageContaining("every published port listening inside the container")
                    .hasMessageContaining("not listening");
        }

        @Test
        void httpTimeoutWhenTheBodyNeverMatches() {
            var c = busybox().withCommand(TestImages.WEB).withExposedPorts(8080)
                    .waitingFor(Wait.forHttp("/index.html").forResponseBody("goodbye"))
                    .withStartupTimeout(Duration.ofSeconds(2));
            assertThatThrownBy(c::start).isInstanceOf(ContainerLaunchException.class)
                    .hasMessageContaining("HTTP GET /index.html").hasMessageContaining("goodbye");
        }

        @Test
        void unexpectedExitCodeFailsAtOnce() {
            var c = busybox().withCommand("sh", "-c", "echo broken config >&2; exit 2").waitingFor(Wait.forExitCode(0));
            long start = System.nanoTime();
            assertThatThrownBy(c::start).isInstanceOf(ContainerLaunchException.class)
                    .hasMessageContaining("exited with code 2, expected 0").hasMessageContaining("broken config");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
        }

        @Test
        void exitBeforeReadyFailsAtOnceAndRemovesTheContainer() {
            var c = busybox().withCommand("sh", "-c", "echo crashing; exit 1").waitingFor(Wait.forLogMessage("ready", 1));
            assertThatThrownBy(c::start).isInstanceOf(ContainerLaunchException.class)
                    .hasMessageContaining("exited with code 1 before it was ready").hasMessageContaining("crashing");
        }

        @Test
        void healthCommandTimeout() {
            var c = busybox().withCommand("sleep", "600").waitingFor(Wait.forHealthCommand("false"))
                    .withStartupTimeout(Duration.ofSeconds(1));
            String[] id = new String[1];
            c.withLogConsumer(line -> { });
            assertThatThrownBy(c::start).isInstanceOf(ContainerLaunchException.class)
                    .hasMessageContaining("health command [false]").hasMessageContaining("(the container wrote no output)")
                    .satisfies(e -> id[0] = e.getMessage().replaceAll("(?s).*container (bj-[0-9a-f]+).*", "$1"));
            assertRemoved(id[0]);
        }
    }

    static String get(BerthContainer<?> c, String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://" + c.host() + ":" + c.port(8080) + path)).build(), HttpResponse.BodyHandlers.ofString());
        return r.body();
    }
}
