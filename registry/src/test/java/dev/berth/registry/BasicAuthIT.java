package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.StatusCode;
import dev.berth.content.LocalContentStore;
import dev.berth.testing.Busybox;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A registry with htpasswd (bcrypt) Basic authentication. */
class BasicAuthIT {
    private static final String USER = "berth";
    private static final String PASSWORD = "s3cret-pass";
    @TempDir
    static Path dir; // JUnit deletes it after @AfterAll has stopped the registry
    private static TestRegistry registry;
    private static final TestImage IMAGE = Busybox.image();

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        assertThat(TestRegistry.available()).as("docker-registry unpacked by scripts/install-deps").isTrue();
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        String hash = OpenBSDBCrypt.generate("2a", PASSWORD.toCharArray(), salt, 4);
        Path htpasswd = dir.resolve("htpasswd");
        Files.writeString(htpasswd, USER + ":" + hash + "\n");
        registry = TestRegistry.create(dir.resolve("registry")).htpasswd(htpasswd).start();
        Path sourceDir = Files.createDirectories(dir.resolve("source"));
        try (LocalContentStore source = Fixtures.store(sourceDir);
             RegistryClient client = Fixtures.client(source)
                     .credentials(Credentials.of(registry.host(), Credential.basic(USER, PASSWORD))).build()) {
            Fixtures.load(source, IMAGE);
            client.push(registry.host() + "/berth/basic:v1", IMAGE.descriptor(), PushOptions.defaults());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    private String ref() {
        return registry.host() + "/berth/basic:v1";
    }

    @Test
    void pullWithTheRightPasswordSucceeds() {
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
             RegistryClient client = Fixtures.client(store)
                     .credentials(Credentials.of(registry.host(), Credential.basic(USER, PASSWORD))).build()) {
            assertThat(client.pull(ref(), PullOptions.defaults()).target().digest())
                    .isEqualTo(IMAGE.descriptor().digest());
        }
    }

    @Test
    void wrongPasswordIsATypedAuthErrorNamingRegistryAndScope() {
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
             RegistryClient client = Fixtures.client(store)
                     .credentials(Credentials.of(registry.host(), Credential.basic(USER, "wrong"))).build()) {
            assertThatThrownBy(() -> client.pull(ref(), PullOptions.defaults()))
                    .isInstanceOfSatisfying(RegistryAuthException.class, e -> {
                        assertThat(e.registry()).isEqualTo(registry.host());
                        assertThat(e.scope()).isEqualTo("repository:berth/basic:pull");
                        assertThat(e.grpcCode()).isEqualTo(StatusCode.UNAUTHENTICATED.code());
                    })
                    .hasMessageContaining(registry.host())
                    .hasMessageContaining("repository:berth/basic:pull");
            assertThat(store.list()).isEmpty();
        }
    }

    @Test
    void noCredentialsSaysSo() {
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
             RegistryClient client = Fixtures.client(store).build()) {
            assertThatThrownBy(() -> client.resolve(ref()))
                    .isInstanceOf(RegistryAuthException.class)
                    .hasMessageContaining("no credentials configured for " + registry.host());
        }
    }

    @Test
    void dockerConfigJsonAuthIsUsed() throws Exception {
        String auth = Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        Path config = Files.writeString(tmp.resolve("config.json"),
                "{\"auths\":{\"" + registry.host() + "\":{\"auth\":\"" + auth + "\"}}}");
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
             RegistryClient client = Fixtures.client(store).credentials(Credentials.dockerConfig(config)).build()) {
            assertThat(client.resolve(ref()).target().digest()).isEqualTo(IMAGE.descriptor().digest());
        }
    }

    @Test
    void dockerCredentialHelperIsRunWithTheHostOnStdin() throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path seen = tmp.resolve("helper-stdin");
        Path helper = bin.resolve("docker-credential-berthtest");
        Files.writeString(helper, "#!/bin/sh\n[ \"$1\" = get ] || exit 3\ncat > " + seen + "\n"
                + "printf '{\"ServerURL\":\"%s\",\"Username\":\"" + USER + "\",\"Secret\":\"" + PASSWORD + "\"}' "
                + "\"$(cat " + seen + ")\"\n");
        Files.setPosixFilePermissions(helper, PosixFilePermissions.fromString("rwx------"));
        Path config = Files.writeString(tmp.resolve("config.json"),
                "{\"credHelpers\":{\"" + registry.host() + "\":\"berthtest\"}}");
        var credentials = new dev.berth.registry.internal.DockerConfigCredentials(config, java.util.List.of(bin));
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
             RegistryClient client = Fixtures.client(store).credentials(credentials).build()) {
            assertThat(client.resolve(ref()).target().digest()).isEqualTo(IMAGE.descriptor().digest());
        }
        assertThat(Files.readString(seen)).isEqualTo(registry.host());
    }
}
