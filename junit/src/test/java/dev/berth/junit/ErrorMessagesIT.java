package dev.berth.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** Where a test author lands, the message says what happened and what to do. */
class ErrorMessagesIT {
    @Test
    void aMissingImageWithPullPolicyNeverSaysNoPullWasAttempted() {
        var c = new BerthContainer<>(ImageSource.registry("registry.invalid/nothing/here:1", PullPolicy.NEVER));
        assertThatThrownBy(c::start).isInstanceOf(ContainerLaunchException.class)
                .hasMessageContaining("registry.invalid/nothing/here:1 is not in namespace")
                .hasMessageContaining("no pull was attempted");
    }

    @Test
    void aFailedPullSaysItWasAttempted() {
        // port 1 on loopback: nothing listens, the pull fails at once
        var c = new BerthContainer<>("127.0.0.1:1/nothing/here:1");
        assertThatThrownBy(c::start).isInstanceOf(ContainerLaunchException.class)
                .hasMessageContaining("is not in namespace")
                .hasMessageContaining("a pull from its registry was attempted and failed");
    }

    @Test
    void aTakenFixedHostPortIsNamed() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            var c = new BerthContainer<>(TestImages.busybox()).withCommand(TestImages.WEB)
                    .withFixedExposedPort(taken.getLocalPort(), 8080);
            assertThatThrownBy(c::start).isInstanceOf(ContainerLaunchException.class)
                    .hasMessageContaining("host port " + taken.getLocalPort() + " (for container port 8080) is already in use");
            assertThat(c.id()).isNull();
        }
    }

    @Test
    void configuringAStartedContainerIsRefused() {
        try (var c = new BerthContainer<>(TestImages.busybox()).withCommand("sleep", "600")) {
            c.start();
            assertThatThrownBy(() -> c.withEnv("A", "b")).hasMessageContaining("configure it before start()");
        }
    }
}
