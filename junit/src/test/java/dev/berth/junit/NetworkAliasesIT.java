package dev.berth.junit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.task.RunResult;
import org.junit.jupiter.api.Test;

/** Two containers on a network of their own: one reaches the other's httpd by its alias. */
@BerthTest
class NetworkAliasesIT {
    @Container
    static BerthNetwork network = BerthNetwork.newNetwork();

    @Container
    static BerthContainer<?> web = new BerthContainer<>(TestImages.busybox())
            .withCommand(TestImages.WEB)
            .withNetwork(network)
            .withNetworkAliases("web", "www.example.test")
            .withExposedPorts(8080);

    @Container
    static BerthContainer<?> client = new BerthContainer<>(TestImages.busybox())
            .withCommand("sleep", "600")
            .withNetwork(network);

    @Test
    void aContainerReachesAnotherByItsAlias() throws Exception {
        RunResult r = client.exec("wget", "-q", "-O", "-", "http://web:8080/index.html");
        assertThat(r.stderr()).isEmpty();
        assertThat(r).isEqualTo(new RunResult("hello\n", "", 0));
        assertThat(client.exec("wget", "-q", "-O", "-", "http://www.example.test:8080/index.html").stdout())
                .isEqualTo("hello\n");
    }

    @Test
    void bothAreOnTheNetworkAndTheHostReachesThePublishedPort() throws Exception {
        assertThat(web.container().network()).hasValueSatisfying(a -> assertThat(a.network()).isEqualTo(network.name()));
        assertThat(client.container().network()).hasValueSatisfying(a -> assertThat(a.network()).isEqualTo(network.name()));
        assertThat(WaitStrategiesIT.get(web, "/index.html")).isEqualTo("hello\n");
    }
}
