package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.UnavailableException;
import dev.berth.content.LocalContentStore;
import dev.berth.testing.Busybox;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A TLS registry whose certificate (SAN 127.0.0.1) is signed by a CA made in the test. */
class TlsIT {
    @TempDir
    static Path dir; // JUnit deletes it after @AfterAll has stopped the registry
    private static TestRegistry registry;
    private static TestPki.Issued ca;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        assertThat(TestRegistry.available()).as("docker-registry unpacked by scripts/install-deps").isTrue();
        ca = TestPki.ca("berth test CA");
        TestPki.Issued server = TestPki.issue(ca, "127.0.0.1", TestPki.ecKeys(), "127.0.0.1");
        Path cert = TestPki.writePem(dir.resolve("server.pem"), server.certificate());
        Path key = TestPki.writePkcs8(dir.resolve("server.key"), server.keys().getPrivate());
        TestPki.writePem(dir.resolve("ca.pem"), ca.certificate());
        registry = TestRegistry.create(dir.resolve("registry")).tls(cert, key, TestPki.trusting(ca.certificate()))
                .start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    private Path hostsDir(String dirName, String toml) throws Exception {
        Path hosts = tmp.resolve("certs.d");
        Path hostDir = Files.createDirectories(hosts.resolve(dirName));
        Files.copy(dir.resolve("ca.pem"), hostDir.resolve("ca.pem"));
        Files.writeString(hostDir.resolve("hosts.toml"), toml);
        return hosts;
    }

    @Test
    void pushAndPullWithTheCaFromHostsToml() throws Exception {
        TestImage image = Busybox.image();
        Path hosts = hostsDir(registry.host(), """
                server = "https://%s"
                ca = "ca.pem"
                """.formatted(registry.host()));
        String ref = registry.host() + "/berth/tls:v1";
        LocalContentStore source = Fixtures.store(tmp.resolve("source"));
        Fixtures.load(source, image);
        try (RegistryClient client = Fixtures.client(source).hostsDirectory(hosts).build()) {
            client.push(ref, image.descriptor(), PushOptions.defaults());
        }
        try (LocalContentStore dest = Fixtures.store(tmp.resolve("dest"));
             RegistryClient client = Fixtures.client(dest).hostsDirectory(hosts).build()) {
            PullResult result = client.pull(ref, PullOptions.defaults());
            assertThat(result.target().digest()).isEqualTo(image.descriptor().digest());
            assertThat(dest.verify(image.layers().get(0).digest()).size()).isEqualTo(image.layers().get(0).size());
        }
    }

    @Test
    void hostPortUnderscoreDirectoryIsFoundFirst() throws Exception {
        String dirName = "127.0.0.1_" + registry.port() + "_";
        Path hosts = hostsDir(dirName, """
                server = "https://%s"
                ca = "ca.pem"
                """.formatted(registry.host()));
        LocalContentStore source = Fixtures.store(tmp.resolve("source"));
        Fixtures.load(source, Busybox.image());
        try (source; RegistryClient client = Fixtures.client(source).hostsDirectory(hosts).build()) {
            client.push(registry.host() + "/berth/tls-underscore:v1", Busybox.image().descriptor(),
                    PushOptions.defaults());
            assertThat(client.resolve(registry.host() + "/berth/tls-underscore:v1").target().digest())
                    .isEqualTo(Busybox.image().descriptor().digest());
        }
    }

    @Test
    void unknownCaFailsWithUnavailableNamingTheRegistry() throws Exception {
        Path hosts = tmp.resolve("certs.d");
        Files.createDirectories(hosts.resolve(registry.host()));
        Files.writeString(hosts.resolve(registry.host()).resolve("hosts.toml"),
                "server = \"https://" + registry.host() + "\"\n");
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
             RegistryClient client = Fixtures.client(store).hostsDirectory(hosts).retries(0).build()) {
            assertThatThrownBy(() -> client.resolve(registry.host() + "/berth/tls:v1"))
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining(registry.host());
        }
    }

    @Test
    void skipVerifyAcceptsTheUnknownCa() throws Exception {
        TestImage image = Busybox.image();
        LocalContentStore source = Fixtures.store(tmp.resolve("source"));
        Fixtures.load(source, image);
        Path hosts = tmp.resolve("certs.d");
        Files.createDirectories(hosts.resolve(registry.host()));
        Files.writeString(hosts.resolve(registry.host()).resolve("hosts.toml"),
                "server = \"https://" + registry.host() + "\"\nskip_verify = true\n");
        try (source; RegistryClient client = Fixtures.client(source).hostsDirectory(hosts).build()) {
            client.push(registry.host() + "/berth/tls-skip:v1", image.descriptor(), PushOptions.defaults());
            assertThat(client.resolve(registry.host() + "/berth/tls-skip:v1").target().digest())
                    .isEqualTo(image.descriptor().digest());
        }
    }
}
