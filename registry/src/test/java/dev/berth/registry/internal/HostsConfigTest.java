package dev.berth.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import dev.berth.registry.internal.RegistryHost.Capability;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostsConfigTest {
    @TempDir
    Path dir;

    private void write(String hostDir, String toml) throws Exception {
        Path d = Files.createDirectories(dir.resolve(hostDir));
        Files.writeString(d.resolve("hosts.toml"), toml);
    }

    @Test
    void defaultsWithoutConfiguration() {
        HostsConfig config = new HostsConfig(null, false);
        assertThat(config.hosts("docker.io")).singleElement().hasToString("https://registry-1.docker.io/v2");
        assertThat(config.hosts("quay.io")).singleElement().hasToString("https://quay.io/v2");
        assertThat(config.hosts("localhost:5000")).singleElement().hasToString("http://localhost:5000/v2");
        assertThat(config.hosts("127.0.0.2:5000")).singleElement().hasToString("http://127.0.0.2:5000/v2");
        assertThat(config.hosts("[::1]:5000")).singleElement().hasToString("http://[::1]:5000/v2");
        assertThat(new HostsConfig(null, true).hosts("quay.io")).singleElement().hasToString("http://quay.io/v2");
        assertThat(config.hosts("quay.io").get(0).capabilities()).isEqualTo(Set.of(Capability.values()));
    }

    @Test
    void mirrorsComeFirstInFileOrderThenTheServer() throws Exception {
        write("docker.io", """
                server = "https://registry-1.docker.io"

                [host."https://mirror-b.example.com"]
                  capabilities = ["pull", "resolve"]
                  header = { X-Token = "abc", X-Multi = ["1", "2"] }

                [host."https://mirror-a.example.com/prefix"]
                  capabilities = ["pull"]
                  override_path = true
                  skip_verify = true
                """);
        List<RegistryHost> hosts = new HostsConfig(dir, false).hosts("docker.io");
        assertThat(hosts).extracting(RegistryHost::toString).containsExactly(
                "https://mirror-b.example.com/v2", "https://mirror-a.example.com/prefix",
                "https://registry-1.docker.io/v2");
        assertThat(hosts.get(0).capabilities()).containsExactlyInAnyOrder(Capability.PULL, Capability.RESOLVE);
        assertThat(hosts.get(0).headers()).containsEntry("X-Token", List.of("abc"))
                .containsEntry("X-Multi", List.of("1", "2"));
        assertThat(hosts.get(1).tls().skipVerify()).isTrue();
        assertThat(hosts.get(2).capabilities()).containsExactlyInAnyOrder(Capability.values());
        assertThat(hosts.get(0).isMirrorFor("docker.io")).isTrue();
        assertThat(hosts.get(2).isMirrorFor("docker.io")).isFalse();
    }

    @Test
    void hostPortDirectoryBeatsColonDirectoryAndDefault() throws Exception {
        write("_default", "server = \"https://default.example\"\n");
        write("reg.example:5000", "server = \"https://colon.example\"\n");
        HostsConfig config = new HostsConfig(dir, false);
        assertThat(config.hosts("reg.example:5000")).singleElement().hasToString("https://colon.example/v2");
        write("reg.example_5000_", "server = \"https://underscore.example\"\n");
        assertThat(config.hosts("reg.example:5000")).singleElement().hasToString("https://underscore.example/v2");
        assertThat(config.hosts("other.example")).singleElement().hasToString("https://default.example/v2");
    }

    @Test
    void caAndClientPathsAreRelativeToTheHostDirectory() throws Exception {
        write("reg.example", """
                server = "https://reg.example"
                ca = ["ca1.pem", "/abs/ca2.pem"]
                client = [["client.cert", "client.key"], "combined.pem"]
                """);
        RegistryHost host = new HostsConfig(dir, false).hosts("reg.example").get(0);
        Path hostDir = dir.resolve("reg.example");
        assertThat(host.tls().caFiles()).containsExactly(hostDir.resolve("ca1.pem"), Path.of("/abs/ca2.pem"));
        assertThat(host.tls().clientPairs()).containsExactly(
                new TlsSettings.ClientPair(hostDir.resolve("client.cert"), hostDir.resolve("client.key")),
                new TlsSettings.ClientPair(hostDir.resolve("combined.pem"), hostDir.resolve("combined.pem")));
    }

    @Test
    void withoutServerTheNamespaceDefaultIsConfigured() throws Exception {
        write("quay.io", "ca = \"ca.pem\"\n");
        RegistryHost host = new HostsConfig(dir, false).hosts("quay.io").get(0);
        assertThat(host).hasToString("https://quay.io/v2");
        assertThat(host.tls().caFiles()).containsExactly(dir.resolve("quay.io/ca.pem"));
    }

    @Test
    void certsDDirectoryWithoutHostsTomlIsReadDockerStyle() throws Exception {
        Path d = Files.createDirectories(dir.resolve("reg.example"));
        Files.writeString(d.resolve("ca.crt"), "x");
        Files.writeString(d.resolve("client.cert"), "x");
        Files.writeString(d.resolve("client.key"), "x");
        RegistryHost host = new HostsConfig(dir, false).hosts("reg.example").get(0);
        assertThat(host.tls().caFiles()).containsExactly(d.resolve("ca.crt"));
        assertThat(host.tls().clientPairs()).containsExactly(
                new TlsSettings.ClientPair(d.resolve("client.cert"), d.resolve("client.key")));
    }

    @Test
    void badCapabilityOrSchemeIsRejectedNamingTheFile() throws Exception {
        write("a.example", "server = \"https://a.example\"\ncapabilities = [\"pull\", \"fly\"]\n");
        write("b.example", "server = \"ftp://b.example\"\n");
        HostsConfig config = new HostsConfig(dir, false);
        assertThatThrownBy(() -> config.hosts("a.example")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("hosts.toml").hasMessageContaining("fly");
        assertThatThrownBy(() -> config.hosts("b.example")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("http or https");
    }

    @Test
    void mirrorUriCarriesTheNamespace() {
        RegistryHost mirror = new RegistryHost("https", "mirror.example", "/v2", Set.of(Capability.PULL),
                TlsSettings.DEFAULT, java.util.Map.of());
        assertThat(mirror.uri("library/busybox", "manifests/latest", "docker.io"))
                .hasToString("https://mirror.example/v2/library/busybox/manifests/latest?ns=docker.io");
    }
}
