package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.berth.api.Digest;
import dev.berth.content.LocalContentStore;
import dev.berth.testing.Busybox;
import dev.berth.testing.TestImage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blob downloads redirected to a storage backend on another host (as S3-backed registries do) must not
 * carry the registry's credentials there. docker-registry's filesystem driver never redirects, so a
 * small server on 127.0.0.1 plays the registry front end for this one behaviour.
 */
class RedirectIT {
    @TempDir
    Path tmp;

    private final TestImage image = Busybox.image();
    private final List<String> storageAuthorization = new CopyOnWriteArrayList<>();
    private final List<String> registryAuthorization = new CopyOnWriteArrayList<>();
    private HttpServer registry;
    private HttpServer storage;

    @BeforeEach
    void start() throws IOException {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        storage = HttpServer.create(new InetSocketAddress(loopback, 0), 8);
        storage.createContext("/", ex -> {
            storageAuthorization.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            Digest d = Digest.parse(ex.getRequestURI().getPath().substring(1));
            send(ex, 200, image.blobs().get(d), "application/octet-stream");
        });
        storage.start();
        registry = HttpServer.create(new InetSocketAddress(loopback, 0), 8);
        registry.createContext("/v2/", ex -> {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            registryAuthorization.add(String.valueOf(auth));
            if (auth == null) {
                ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"test\"");
                send(ex, 401, new byte[0], "application/json");
                return;
            }
            String path = ex.getRequestURI().getPath();
            if (path.endsWith("/manifests/v1") || path.contains("/manifests/sha256:")) {
                ex.getResponseHeaders().set("Docker-Content-Digest", image.descriptor().digest().toString());
                send(ex, 200, ex.getRequestMethod().equals("HEAD") ? null : image.bytes(), image.descriptor()
                        .mediaType());
            } else if (path.contains("/blobs/")) {
                String digest = path.substring(path.lastIndexOf('/') + 1);
                ex.getResponseHeaders().set("Location", "http://127.0.0.1:" + storage.getAddress().getPort() + "/"
                        + digest);
                send(ex, 307, new byte[0], "text/plain");
            } else {
                send(ex, 404, new byte[0], "application/json");
            }
        });
        registry.start();
    }

    private void send(HttpExchange ex, int status, byte[] body, String type) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        if (body == null) {
            ex.getResponseHeaders().set("Content-Length", String.valueOf(image.bytes().length));
            ex.sendResponseHeaders(status, -1);
        } else {
            ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            ex.getResponseBody().write(body);
        }
        ex.close();
    }

    @AfterEach
    void stop() {
        registry.stop(0);
        storage.stop(0);
    }

    @Test
    void redirectToAnotherHostDropsAuthorization() {
        String host = "127.0.0.1:" + registry.getAddress().getPort();
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
             RegistryClient client = Fixtures.client(store)
                     .credentials(Credentials.of(host, Credential.basic("u", "p"))).build()) {
            PullResult result = client.pull(host + "/berth/redirected:v1", PullOptions.defaults());

            assertThat(result.target().digest()).isEqualTo(image.descriptor().digest());
            assertThat(store.verify(image.layers().get(0).digest()).size()).isEqualTo(image.layers().get(0).size());
        }
        assertThat(storageAuthorization).hasSize(2).containsOnly("null");
        assertThat(registryAuthorization).contains("Basic dTpw");
    }
}
