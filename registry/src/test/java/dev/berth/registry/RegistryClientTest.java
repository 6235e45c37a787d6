package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.ClosedException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.UnavailableException;
import dev.berth.content.LocalContentStore;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryClientTest {
    @TempDir
    Path dir;

    @Test
    void builderRejectsBadOptionsNamingThem() {
        try (LocalContentStore store = LocalContentStore.open(dir)) {
            RegistryClient.Builder b = RegistryClient.builder(store);
            assertThatThrownBy(() -> b.maxConcurrentDownloads(0)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("maxConcurrentDownloads");
            assertThatThrownBy(() -> b.stallTimeout(Duration.ZERO)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("stallTimeout");
            assertThatThrownBy(() -> b.retries(-1)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("retries");
            assertThatThrownBy(() -> b.userAgent(" ")).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("userAgent");
            assertThatThrownBy(() -> PushOptions.builder().chunkSize(-1)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("chunkSize");
        }
    }

    @Test
    void malformedReferenceIsRejectedBeforeAnyNetworkCall() {
        try (LocalContentStore store = LocalContentStore.open(dir);
             RegistryClient client = RegistryClient.builder(store).credentials(Credentials.none()).build()) {
            assertThatThrownBy(() -> client.pull("Not A Ref", PullOptions.defaults()))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("Not A Ref");
        }
    }

    @Test
    void closeIsIdempotentAndClosedClientRefusesWork() {
        try (LocalContentStore store = LocalContentStore.open(dir)) {
            RegistryClient client = RegistryClient.builder(store).build();
            client.close();
            client.close();
            assertThatThrownBy(() -> client.resolve("busybox")).isInstanceOf(ClosedException.class)
                    .hasMessage("registry client is closed");
        }
    }

    @Test
    void credentialsFallBackInOrderAndHideSecrets() {
        Credentials c = Credentials.of("a.example", Credential.basic("u", "secret"))
                .orElse(Credentials.of("b.example", Credential.identityToken("t")));
        assertThat(c.forHost("a.example")).contains(Credential.basic("u", "secret"));
        assertThat(c.forHost("b.example")).hasValueSatisfying(cr -> assertThat(cr.isIdentityToken()).isTrue());
        assertThat(c.forHost("c.example")).isEmpty();
        assertThat(Credential.basic("u", "secret").toString()).doesNotContain("secret");
    }

    @Test
    void clientWithoutAStoreRefusesAPullThatNamesNone() {
        try (RegistryClient client = RegistryClient.builder().credentials(Credentials.none()).build()) {
            assertThatThrownBy(() -> client.pull("127.0.0.1:1/berth/x:1", PullOptions.defaults()))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("no content store");
        }
    }

    @Test
    void unreachableRegistryIsUnavailableCarryingTheIoException() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        try (LocalContentStore store = LocalContentStore.open(dir);
             RegistryClient client = RegistryClient.builder(store).credentials(Credentials.none()).retries(0)
                     .build()) {
            assertThatThrownBy(() -> client.resolve("127.0.0.1:" + port + "/berth/x:1"))
                    .isInstanceOf(UnavailableException.class).hasMessageContaining("127.0.0.1:" + port)
                    .hasRootCauseInstanceOf(IOException.class);
        }
    }
}
