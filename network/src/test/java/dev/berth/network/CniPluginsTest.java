package dev.berth.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.DeadlineExceededException;
import dev.berth.api.FailedPreconditionException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CNI calling convention, with tiny third-party plugins written as shell scripts. */
class CniPluginsTest {
    @TempDir
    Path dir;

    private void plugin(String name, String script) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + script);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
    }

    private static CniPlugins.Invocation inv() {
        return new CniPlugins.Invocation("c1", "/run/netns/x", "eth0", Map.of("IgnoreUnknown", "1"),
                "{\"portMappings\":[{\"hostPort\":1,\"containerPort\":2,\"protocol\":\"tcp\"}]}");
    }

    @Test
    void aThirdPartyChainGetsTheEnvironmentTheConfigAndThePreviousResult() throws Exception {
        Path log = dir.resolve("log");
        // the first answers with a result; the second echoes what it was given, so the test sees it
        plugin("first", "cat > /dev/null; echo \"$CNI_COMMAND $CNI_CONTAINERID $CNI_NETNS $CNI_IFNAME $CNI_ARGS $CNI_PATH\" >> "
                + log + "; echo '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.2.3/24\"}]}'");
        plugin("second", "cat; echo \"$CNI_COMMAND second\" >> " + log);
        CniPlugins plugins = new CniPlugins(List.of(dir), Duration.ofSeconds(10));
        String list = "{\"cniVersion\":\"1.0.0\",\"name\":\"t\",\"plugins\":[{\"type\":\"first\"},"
                + "{\"type\":\"second\",\"capabilities\":{\"portMappings\":true}}]}";

        String result = plugins.add(list, inv());

        assertThat(result).contains("\"name\":\"t\"").contains("\"type\":\"second\"")
                .contains("\"prevResult\":{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.2.3/24\"}]}")
                .contains("\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":1,\"containerPort\":2,\"protocol\":\"tcp\"}]}");
        plugins.del(list, inv(), null);
        assertThat(Files.readAllLines(log)).containsExactly(
                "ADD c1 /run/netns/x eth0 IgnoreUnknown=1 " + dir, "ADD second", "DEL second",
                "DEL c1 /run/netns/x eth0 IgnoreUnknown=1 " + dir);
    }

    @Test
    void aPluginErrorIsReportedWithItsCodeMessageAndStderr() throws Exception {
        plugin("broken", "cat > /dev/null; echo 'bad things' >&2;"
                + " echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"no luck\",\"details\":\"really\"}'; exit 1");
        CniPlugins plugins = new CniPlugins(List.of(dir), Duration.ofSeconds(10));
        assertThatThrownBy(() -> plugins.add("{\"cniVersion\":\"1.0.0\",\"name\":\"t\",\"plugins\":[{\"type\":\"broken\"}]}",
                inv())).isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("code 11: no luck (really)").hasMessageContaining("bad things");
    }

    @Test
    void aHangingPluginIsKilledAfterTheTimeoutWithItsStderrInTheMessage() throws Exception {
        plugin("hangs", "echo 'waiting forever' >&2; exec sleep 600");
        CniPlugins plugins = new CniPlugins(List.of(dir), Duration.ofMillis(500));
        long start = System.nanoTime();
        assertThatThrownBy(() -> plugins.add("{\"cniVersion\":\"1.0.0\",\"name\":\"t\",\"plugins\":[{\"type\":\"hangs\"}]}",
                inv())).isInstanceOf(DeadlineExceededException.class).hasMessageContaining("waiting forever");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void aMissingPluginNamesThePackageToInstall() {
        CniPlugins plugins = new CniPlugins(List.of(dir), Duration.ofSeconds(1));
        assertThatThrownBy(() -> plugins.find("bridge")).isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("containernetworking-plugins").hasMessageContaining(dir.toString());
    }

    @Test
    void theRealBridgePluginReportsSpecVersionOneZero() {
        CniPlugins plugins = new CniPlugins(CniPlugins.DEFAULT_DIRS, Duration.ofSeconds(10));
        assertThat(plugins.version("bridge")).contains("1.0.0");
    }
}
