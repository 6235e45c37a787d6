package dev.berth.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.BerthException;
import dev.berth.api.NotImplementedException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ShimLauncherTest {
    private static final Path SHIM = Path.of("/usr/bin/containerd-shim-runc-v2");

    @Test
    void plainUnixAddressIsASocketPath() {
        assertThat(ShimLauncher.parseAddress("unix:///run/containerd/s/abc", SHIM))
                .isEqualTo(Path.of("/run/containerd/s/abc"));
    }

    @Test
    void jsonBootstrapOfNewerShimsIsAccepted() {
        String json = "{\"version\":2,\"address\":\"unix:///run/containerd/s/def\",\"protocol\":\"ttrpc\"}";
        assertThat(ShimLauncher.parseAddress(json, SHIM)).isEqualTo(Path.of("/run/containerd/s/def"));
    }

    @Test
    void grpcShimsAreNotSupported() {
        String json = "{\"version\":2,\"address\":\"unix:///x\",\"protocol\":\"grpc\"}";
        assertThatThrownBy(() -> ShimLauncher.parseAddress(json, SHIM)).isInstanceOf(NotImplementedException.class)
                .hasMessageContaining("grpc");
    }

    @Test
    void abstractSocketAndEmptyOutputAreRejected() {
        assertThatThrownBy(() -> ShimLauncher.parseAddress("\\0containerd-shim/abc", SHIM))
                .isInstanceOf(NotImplementedException.class);
        assertThatThrownBy(() -> ShimLauncher.parseAddress("", SHIM))
                .isInstanceOf(BerthException.class).hasMessageContaining("no address");
    }

    @Test
    void startCommandIsContainerd16s() {
        ShimLauncher.Context ctx = new ShimLauncher.Context("ns", "t1", Path.of("/state/tasks/ns/t1"),
                "/state/berth.sock", Path.of("/bin/false"), Path.of("/state/events.sock"));

        assertThat(ShimLauncher.command(SHIM, ctx, "start")).containsExactly(SHIM.toString(), "-namespace", "ns",
                "-address", "/state/berth.sock", "-publish-binary", "/bin/false", "-id", "t1", "start");
    }

    @Test
    void privateCgroup2WrapsTheShimInItsOwnMountNamespace() {
        ShimLauncher.Context ctx = new ShimLauncher.Context("ns", "t1", Path.of("/state/tasks/ns/t1"),
                "/state/berth.sock", Path.of("/bin/false"), Path.of("/state/events.sock"), true);

        assertThat(ShimLauncher.command(SHIM, ctx, "start"))
                .startsWith("unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c")
                .endsWith(SHIM.toString(), "-namespace", "ns", "-address", "/state/berth.sock", "-publish-binary",
                        "/bin/false", "-id", "t1", "start");
    }
}
