package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.content.LocalContentStore;
import dev.berth.testing.Busybox;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A registry with token authentication: a token server in the test issues JWTs signed by a key whose
 * certificate chains to the registry's {@code rootcertbundle}.
 */
class TokenAuthIT {
    @TempDir
    static Path dir; // JUnit deletes it after @AfterAll has stopped the registry
    private static TestRegistry registry;
    private static TokenServer tokens;
    private static final TestImage IMAGE = Busybox.image();
    private static final Credential WRITER = Credential.basic("writer", "w-pass");
    private static final Credential READER = Credential.basic("reader", "r-pass");

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        assertThat(TestRegistry.available()).as("docker-registry unpacked by scripts/install-deps").isTrue();
        TestPki.Issued ca = TestPki.ca("berth token CA");
        TestPki.Issued signer = TestPki.issue(ca, "berth token signer", TestPki.rsaKeys(), null);
        Path bundle = TestPki.writePem(dir.resolve("token-ca.pem"), ca.certificate());
        tokens = new TokenServer(signer.keys(), signer.certificate())
                .user(WRITER.username(), WRITER.secret(), Set.of("pull", "push"))
                .user(READER.username(), READER.secret(), Set.of("pull"));
        registry = TestRegistry.create(dir.resolve("registry"))
                .token(tokens.realm(), TokenServer.SERVICE, TokenServer.ISSUER, bundle).start();
        try (LocalContentStore source = Fixtures.store(Files.createDirectories(dir.resolve("source")));
             RegistryClient client = Fixtures.client(source).credentials(Credentials.of(registry.host(), WRITER))
                     .build()) {
            Fixtures.load(source, IMAGE);
            client.push(registry.host() + "/berth/token:v1", IMAGE.descriptor(), PushOptions.defaults());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (registry != null) {
            registry.close();
        }
        if (tokens != null) {
            tokens.close();
        }
    }

    @BeforeEach
    void reset() {
        tokens.clearRequests();
        tokens.postSupported(true).anonymousPull(false).issueExpired(0);
    }

    private String ref() {
        return registry.host() + "/berth/token:v1";
    }

    private RegistryClient client(LocalContentStore store, Credential credential) {
        return Fixtures.client(store).credentials(credential == null ? Credentials.none()
                : Credentials.of(registry.host(), credential)).build();
    }

    @Test
    void pullUsesThePasswordGrantAndReusesTheCachedToken() {
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s")); RegistryClient client = client(store, READER)) {
            client.pull(ref(), PullOptions.defaults());
            client.pull(ref(), PullOptions.defaults());
        }
        assertThat(tokens.requests()).singleElement().satisfies(r -> {
            assertThat(r.method()).isEqualTo("POST");
            assertThat(r.params().get("grant_type")).containsExactly("password");
            assertThat(r.params().get("service")).containsExactly(TokenServer.SERVICE);
            assertThat(r.scopes()).containsExactly("repository:berth/token:pull");
        });
    }

    @Test
    void tokenEndpointWithoutPostIsAskedWithGetAndBasicAuth() {
        tokens.postSupported(false);
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s")); RegistryClient client = client(store, READER)) {
            assertThat(client.pull(ref(), PullOptions.defaults()).target().digest())
                    .isEqualTo(IMAGE.descriptor().digest());
        }
        assertThat(tokens.requests()).extracting(TokenServer.Request::method).containsExactly("POST", "GET");
        assertThat(tokens.requests().get(1).basicAuth()).isTrue();
    }

    @Test
    void anonymousPullGetsATokenWithoutCredentials() {
        tokens.anonymousPull(true);
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s")); RegistryClient client = client(store, null)) {
            assertThat(client.pull(ref(), PullOptions.defaults()).target().digest())
                    .isEqualTo(IMAGE.descriptor().digest());
        }
        assertThat(tokens.requests()).singleElement().satisfies(r -> {
            assertThat(r.method()).isEqualTo("GET");
            assertThat(r.basicAuth()).isFalse();
        });
    }

    @Test
    void wrongPasswordIsATypedAuthError() {
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
             RegistryClient client = client(store, Credential.basic("reader", "nope"))) {
            assertThatThrownBy(() -> client.pull(ref(), PullOptions.defaults()))
                    .isInstanceOfSatisfying(RegistryAuthException.class, e -> {
                        assertThat(e.registry()).isEqualTo(registry.host());
                        assertThat(e.scope()).contains("repository:berth/token:pull");
                    })
                    .hasMessageContaining("as user reader");
        }
    }

    @Test
    void pushWithAPullOnlyTokenIsDenied() {
        TestImage other = Fixtures.twoLayerImage();
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s")); RegistryClient client = client(store, READER)) {
            Fixtures.load(store, other);
            assertThatThrownBy(() -> client.push(registry.host() + "/berth/token-denied:v1", other.descriptor(),
                    PushOptions.defaults()))
                    .isInstanceOfSatisfying(RegistryAuthException.class,
                            e -> assertThat(e.scope()).contains("repository:berth/token-denied:pull,push"))
                    .hasMessageContaining(registry.host());
        }
    }

    @Test
    void rejectedTokenIsReplacedOnce() {
        tokens.issueExpired(1);
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s")); RegistryClient client = client(store, READER)) {
            assertThat(client.pull(ref(), PullOptions.defaults()).target().digest())
                    .isEqualTo(IMAGE.descriptor().digest());
        }
        assertThat(tokens.requests()).hasSize(2);
    }

    @Test
    void tokenThatIsAlwaysRejectedFailsAfterOneRetry() {
        tokens.issueExpired(100);
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s")); RegistryClient client = client(store, READER)) {
            assertThatThrownBy(() -> client.resolve(ref()))
                    .isInstanceOf(RegistryAuthException.class)
                    .hasMessageContaining("invalid_token");
        }
        assertThat(tokens.requests()).hasSize(2);
    }
}
