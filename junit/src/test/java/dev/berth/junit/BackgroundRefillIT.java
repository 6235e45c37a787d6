package dev.berth.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.internal.Foreground;
import dev.berth.network.Networks;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The refill a start causes (the next spare network namespace, whose CNI plugin processes would share the CPU
 * with this container's {@code runc create} and {@code runc start}) waits until the start's wait has passed;
 * {@code -Dberth.junit.deferRefill=false} runs it beside the start, as before.
 */
class BackgroundRefillIT {
    private static final String NETWORK = "default";

    /** The listening-port wait, recording at its first check what the network's next spare is doing. */
    private static final class Recording implements WaitStrategy {
        private final WaitStrategy listening = Wait.forListeningPort();
        private volatile String spareAtFirstCheck;
        private volatile int enteredAtFirstCheck = -1;

        @Override
        public boolean isReady(BerthContainer<?> container) throws Exception {
            if (spareAtFirstCheck == null) {
                enteredAtFirstCheck = Foreground.entered();
                spareAtFirstCheck = networks().spareProgress(NETWORK);
            }
            return listening.isReady(container);
        }

        @Override
        public String description() {
            return listening.description() + " (recording the spare's progress)";
        }

        @Override
        public Duration pollInterval() {
            return listening.pollInterval();
        }
    }

    private static Networks networks() {
        return BerthEnvironment.berth().networks();
    }

    /** A spare ready before the start, so that the start takes it and the refill is the next one. */
    private static void spareReady() {
        networks().prepare(NETWORK);
        await().atMost(Duration.ofSeconds(120)).until(() -> {
            networks().awaitSpares();
            return networks().readySpares(NETWORK) > 0;
        });
    }

    private static BerthContainer<?> web(Recording wait) {
        return new BerthContainer<>(TestImages.busybox()).withCommand(TestImages.WEB).withExposedPorts(8080)
                .waitingFor(wait);
    }

    @Test
    void theNextSpareNamespaceIsMadeOnlyOnceTheWaitHasPassed() throws Exception {
        spareReady();
        Recording wait = new Recording();
        BerthContainer<?> c = web(wait);
        try {
            c.start();
            assertThat(wait.enteredAtFirstCheck).isPositive();
            assertThat(wait.spareAtFirstCheck).isEqualTo("deferred");
            await().atMost(Duration.ofSeconds(120)).until(() -> networks().readySpares(NETWORK) == 1
                    && networks().spareProgress(NETWORK).equals("none"));
            assertThat(fetch(c)).isEqualTo("hello\n");
        } finally {
            c.stop();
        }
        assertThat(Foreground.entered()).isZero();
    }

    @Test
    void aStartThatFailsStillReleasesTheRefill() {
        spareReady();
        BerthContainer<?> c = new BerthContainer<>(TestImages.busybox()).withCommand("sh", "-c", "exit 3")
                .withExposedPorts(8080).withStartupTimeout(Duration.ofSeconds(60));
        try {
            org.assertj.core.api.Assertions.assertThatThrownBy(c::start).isInstanceOf(ContainerLaunchException.class);
        } finally {
            c.stop();
        }
        assertThat(Foreground.entered()).isZero();
        await().atMost(Duration.ofSeconds(120)).until(() -> networks().readySpares(NETWORK) == 1);
    }

    @Test
    void withDeferringOffTheRefillRunsBesideTheStart() throws Exception {
        spareReady();
        Recording wait = new Recording();
        BerthContainer<?> c = web(wait);
        System.setProperty(BerthContainer.DEFER_REFILL_PROPERTY, "false");
        try {
            c.start();
            assertThat(wait.enteredAtFirstCheck).isZero();
            assertThat(wait.spareAtFirstCheck).isIn("running", "none");
            await().atMost(Duration.ofSeconds(120)).until(() -> networks().readySpares(NETWORK) == 1);
            assertThat(fetch(c)).isEqualTo("hello\n");
        } finally {
            System.clearProperty(BerthContainer.DEFER_REFILL_PROPERTY);
            c.stop();
        }
    }

    private static String fetch(BerthContainer<?> c) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://" + c.host() + ":" + c.port(8080) + "/index.html")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }
}
