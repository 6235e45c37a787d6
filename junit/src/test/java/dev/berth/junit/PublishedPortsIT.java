package dev.berth.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.junit.internal.PortForwarder;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * How a container's exposed ports reach the host: relayed by this JVM for a session-scoped container (no
 * {@code portmap} rule), by {@code portmap} with {@code -Dberth.junit.portForward=false}; byte-exact either way.
 */
class PublishedPortsIT {
    private static final byte[] BLOB = new byte[262_144];

    static {
        new Random(18).nextBytes(BLOB);
    }

    private static BerthContainer<?> web() {
        return new BerthContainer<>(TestImages.busybox()).withCommand(TestImages.WEB)
                .withCopyToContainer(Transferable.of(BLOB), "/www/blob.bin").withExposedPorts(8080);
    }

    @Test
    void aSessionContainersPortIsRelayedByTheJvmWithoutANatRuleAndClosesWithIt() throws Exception {
        BerthContainer<?> c = web();
        int hostPort;
        try {
            c.start();
            hostPort = c.port(8080);
            assertThat(fetch(c, "/blob.bin")).isEqualTo(BLOB);
            assertThat(new String(fetch(c, "/index.html"), StandardCharsets.UTF_8)).isEqualTo("hello\n");
            assertThat(c.container().network()).hasValueSatisfying(a -> assertThat(a.ports()).isEmpty());
            assertThat(natRules()).doesNotContain("--dport " + hostPort + " ");
        } finally {
            c.stop();
        }
        assertThatThrownBy(() -> new Socket().connect(new InetSocketAddress(c.host(), hostPort), 2000))
                .isInstanceOf(ConnectException.class);
    }

    @Test
    void aConnectionTheContainerRefusesIsClosedAtOnce() throws Exception {
        BerthContainer<?> c = new BerthContainer<>(TestImages.busybox()).withCommand("sleep", "600")
                .withExposedPorts(8080).waitingFor(Wait.none());
        try {
            c.start();
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(c.host(), c.port(8080)), 5000);
                s.setSoTimeout(30_000);
                InputStream in = s.getInputStream();
                int read;
                try {
                    read = in.read();
                } catch (IOException reset) {
                    read = -1;
                }
                assertThat(read).isEqualTo(-1);
            }
        } finally {
            c.stop();
        }
    }

    @Test
    void withTheRelaySetUpBeforeTheStartInsteadOfBesideItThePortWorksTheSame() throws Exception {
        BerthContainer<?> c = web();
        System.setProperty(BerthContainer.FORWARD_BESIDE_START_PROPERTY, "false");
        int hostPort;
        try {
            c.start();
            hostPort = c.port(8080);
            assertThat(fetch(c, "/blob.bin")).isEqualTo(BLOB);
            assertThat(c.container().network()).hasValueSatisfying(a -> assertThat(a.ports()).isEmpty());
        } finally {
            System.clearProperty(BerthContainer.FORWARD_BESIDE_START_PROPERTY);
            c.stop();
        }
        assertThatThrownBy(() -> new Socket().connect(new InetSocketAddress(c.host(), hostPort), 2000))
                .isInstanceOf(ConnectException.class);
    }

    @Test
    void aContainerThatExitsAtOnceLeavesNoRelayListeningAfterItsFailedStart() {
        // the relay is set up while runc starts a process that exits at once: the failed start closes it
        long relaysBefore = relayThreads();
        BerthContainer<?> c = new BerthContainer<>(TestImages.busybox()).withCommand("sh", "-c", "exit 3")
                .withExposedPorts(8080);
        assertThatThrownBy(c::start).isInstanceOf(ContainerLaunchException.class)
                .hasMessageContaining("exited with code 3");
        assertThat(c.id()).isNull();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> relayThreads() == relaysBefore);
    }

    /** The relays' accepting threads alive now ({@code berth-junit-forward-<port>}). */
    private static long relayThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive()
                && t.getName().matches("berth-junit-forward-\\d+")).count();
    }

    @Test
    void withForwardingOffThePortIsPublishedByPortmap() throws Exception {
        BerthContainer<?> c = web();
        System.setProperty(PortForwarder.PROPERTY, "false");
        try {
            c.start();
            int hostPort = c.port(8080);
            assertThat(c.container().network()).hasValueSatisfying(a -> assertThat(a.ports())
                    .anySatisfy(p -> {
                        assertThat(p.containerPort()).isEqualTo(8080);
                        assertThat(p.hostPort()).isEqualTo(hostPort);
                    }));
            assertThat(fetch(c, "/blob.bin")).isEqualTo(BLOB);
        } finally {
            System.clearProperty(PortForwarder.PROPERTY);
            c.stop();
        }
    }

    private static byte[] fetch(BerthContainer<?> c, String path) throws Exception {
        HttpResponse<byte[]> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://" + c.host() + ":" + c.port(8080) + path)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    private static String natRules() throws Exception {
        Process p = new ProcessBuilder("iptables-save", "-t", "nat").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        return out;
    }
}
