package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import dev.berth.content.LocalContentStore;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pushes through a proxy that fails chosen requests: transient failures (429/5xx, resets) are retried
 * with new upload sessions and the image arrives intact; other failures end the push at once; retries
 * end after the configured attempts without a manifest going up.
 */
class PushFaultsIT {
    private static final String UPLOAD_POST = "^POST /v2/[^ ]*/blobs/uploads/ ";
    private static final String UPLOAD_PUT = "^PUT /v2/[^ ]*/blobs/uploads/[^ ]*digest=";
    private static final String PATCH = "^PATCH /v2/[^ ]*/blobs/uploads/";
    private static final String MANIFEST_PUT = "^PUT /v2/[^ ]*/manifests/";

    private static TestRegistry registry;
    @TempDir
    static Path registryDir; // JUnit deletes it after @AfterAll has stopped the registry

    @TempDir
    Path tmp;

    private final TestImage image = Fixtures.twoLayerImage();
    private final Descriptor big = Fixtures.bigLayer(image);
    private final int blobCount = image.layerDescriptors().size() + 1;
    private FaultProxy proxy;
    private LocalContentStore source;

    @BeforeAll
    static void startRegistry() throws Exception {
        assertThat(TestRegistry.available()).as("docker-registry unpacked by scripts/install-deps").isTrue();
        registry = TestRegistry.create(registryDir).start();
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        proxy = new FaultProxy(registry.port());
        source = Fixtures.store(tmp.resolve("source"));
        Fixtures.load(source, image);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (source != null) {
            source.close();
        }
    }

    /** Each test pushes to its own repository, so every blob is uploaded again. */
    private String viaProxy(String repository) {
        return proxy.host() + "/berth/" + repository + ":v1";
    }

    private static String bigPut(Descriptor blob) {
        return UPLOAD_PUT + "sha256%3A" + blob.digest().hex();
    }

    private void push(String repository, RegistryClient.Builder client, PushOptions options) {
        try (RegistryClient c = client.build()) {
            c.push(viaProxy(repository), image.descriptor(), options);
        }
    }

    /** Pulls the tag straight from the registry into a fresh store: every blob arrives, digest-verified. */
    private void assertPulledBackIntact(String repository) {
        try (LocalContentStore dest = Fixtures.store(tmp.resolve("pulled-" + repository));
             RegistryClient client = Fixtures.client(dest).build()) {
            PullResult pulled = client.pull(registry.host() + "/berth/" + repository + ":v1", PullOptions.defaults());
            assertThat(pulled.target().digest()).isEqualTo(image.descriptor().digest());
            for (Map.Entry<Digest, byte[]> blob : image.blobs().entrySet()) {
                assertThat(dest.verify(blob.getKey()).size()).as("size of %s", blob.getKey())
                        .isEqualTo(blob.getValue().length);
            }
        }
    }

    /** The status of a HEAD straight to the registry, past the proxy. */
    private static int headOnRegistry(String repository, String object) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest head = HttpRequest.newBuilder(URI.create("http://" + registry.host() + "/v2/berth/" + repository
                + "/" + object)).method("HEAD", HttpRequest.BodyPublishers.noBody()).build();
        return http.send(head, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static void assertProgressStayedWithinTheBlob(RecordingListener listener, Descriptor blob) {
        assertThat(listener.progressOfBig).isNotEmpty().allSatisfy(p -> assertThat(p).isBetween(0L, blob.size()));
        assertThat(listener.progressOfBig.get(listener.progressOfBig.size() - 1)).isEqualTo(blob.size());
    }

    @Nested
    class TransientFailuresAreRetried {
        @Test
        void uploadRequestsAnswered503StartNewUploadSessionsAndTheImageArrivesIntact() {
            proxy.failRequests(UPLOAD_POST, 503, 2).failRequests(UPLOAD_PUT, 503, 2);
            RecordingListener listener = new RecordingListener(big.digest());

            // 4 failures could all hit one blob: 5 attempts let it through
            push("after-503", Fixtures.client(source).retries(4), PushOptions.builder().progress(listener).build());

            assertThat(proxy.requestFaultsInjected()).isEqualTo(4);
            // every 503 cost exactly one new session: blobs + 2 failed POSTs + 2 restarts after failed PUTs
            assertThat(proxy.requests(UPLOAD_POST)).isEqualTo(blobCount + 4);
            assertThat(proxy.requests(UPLOAD_PUT)).isEqualTo(blobCount + 2);
            assertThat(listener.events).contains("verified " + big.digest(), "finished " + image.descriptor().digest());
            assertPulledBackIntact("after-503");
        }

        @Test
        void tooManyRequestsWithRetryAfterIsRetried() {
            proxy.failRequests(UPLOAD_POST, 429, 1, "1");

            push("after-429", Fixtures.client(source), PushOptions.defaults());

            assertThat(proxy.requestFaultsInjected()).isEqualTo(1);
            assertPulledBackIntact("after-429");
        }

        @Test
        void connectionResetMidBlobPutRestartsThatBlobFromZeroAndTheImageArrivesIntact() {
            proxy.cutRequestBodies(bigPut(big), big.size() / 2, 1);
            RecordingListener listener = new RecordingListener(big.digest());

            push("reset-put", Fixtures.client(source), PushOptions.builder().progress(listener).build());

            assertThat(proxy.requests(bigPut(big))).isEqualTo(2);
            assertThat(listener.startsOf(big.digest())).containsExactly("started " + big.digest() + " 0",
                    "started " + big.digest() + " 0");
            assertProgressStayedWithinTheBlob(listener, big);
            assertPulledBackIntact("reset-put");
        }

        @Test
        void connectionResetMidChunkPatchRestartsTheUploadSessionAndTheImageArrivesIntact() {
            long chunk = 1 << 20;
            assertThat(big.size()).as("the big layer needs several chunks").isGreaterThan(2 * chunk);
            proxy.cutRequestBodies(PATCH, chunk / 2, 1);
            RecordingListener listener = new RecordingListener(big.digest());

            push("reset-patch", Fixtures.client(source),
                    PushOptions.builder().chunkSize(chunk).progress(listener).build());

            assertThat(proxy.requestFaultsInjected()).isEqualTo(1);
            assertThat(proxy.requests(UPLOAD_POST)).isEqualTo(blobCount + 1);
            Map<String, Long> startsPerBlob = listener.events.stream().filter(e -> e.startsWith("started sha256:"))
                    .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
            assertThat(startsPerBlob.values()).as("one blob restarted from 0").contains(2L);
            assertThat(startsPerBlob.keySet()).allSatisfy(s -> assertThat(s).endsWith(" 0"));
            assertProgressStayedWithinTheBlob(listener, big);
            assertPulledBackIntact("reset-patch");
        }

        @Test
        void manifestPutAnswered503ThenResetIsRepeatedAndTheTagPointsAtTheImage() throws Exception {
            proxy.failRequests(MANIFEST_PUT, 503, 1).cutRequestBodies(MANIFEST_PUT, 64, 1);

            push("manifest-retry", Fixtures.client(source), PushOptions.defaults());

            assertThat(proxy.requests(MANIFEST_PUT)).isEqualTo(3);
            try (RegistryClient client = Fixtures.client(source).build()) {
                assertThat(client.resolve(registry.host() + "/berth/manifest-retry:v1").target().digest())
                        .isEqualTo(image.descriptor().digest());
            }
            assertPulledBackIntact("manifest-retry");
        }
    }

    @Nested
    class PermanentFailuresEndThePushAtOnce {
        @Test
        void blobRejectedWith400FailsWithoutRetryNamingTheBlobAndRegistry() throws Exception {
            proxy.failRequests(bigPut(big), 400, Integer.MAX_VALUE);

            assertThatThrownBy(() -> push("rejected", Fixtures.client(source).retries(3), PushOptions.defaults()))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining(big.digest().toString())
                    .hasMessageContaining(proxy.host())
                    .hasMessageContaining("DIGEST_INVALID");

            assertThat(proxy.requests(bigPut(big))).isEqualTo(1);
            assertThat(proxy.requests(MANIFEST_PUT)).isZero();
            assertThat(headOnRegistry("rejected", "manifests/v1")).isEqualTo(404);
        }

        @Test
        void manifestDeniedWith403FailsWithoutRetryAsAnAuthError() {
            proxy.failRequests(MANIFEST_PUT, 403, Integer.MAX_VALUE);

            assertThatThrownBy(() -> push("denied", Fixtures.client(source).retries(3), PushOptions.defaults()))
                    .isInstanceOfSatisfying(RegistryAuthException.class,
                            e -> assertThat(e.httpStatus()).isEqualTo(403))
                    .hasMessageContaining("manifest " + image.descriptor().digest())
                    .hasMessageContaining(proxy.host());

            assertThat(proxy.requests(MANIFEST_PUT)).isEqualTo(1);
        }
    }

    @Nested
    class RetriesAreBounded {
        @Test
        void blobUploadThatKeepsFailingGivesUpAfterTheConfiguredAttemptsAndNoManifestGoesUp() throws Exception {
            proxy.failRequests(bigPut(big), 503, Integer.MAX_VALUE);
            RecordingListener listener = new RecordingListener(big.digest());

            assertThatThrownBy(() -> push("always-503", Fixtures.client(source).retries(2),
                    PushOptions.builder().progress(listener).build()))
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining(big.digest().toString())
                    .hasMessageContaining(proxy.host())
                    .hasMessageContaining("failed 3 times");

            assertThat(proxy.requests(bigPut(big))).isEqualTo(3);
            assertThat(proxy.requests(MANIFEST_PUT)).isZero();
            assertThat(listener.events).doesNotContain("verified " + big.digest())
                    .noneMatch(e -> e.startsWith("finished"));
            assertThat(headOnRegistry("always-503", "blobs/" + big.digest())).isEqualTo(404);
            assertThat(headOnRegistry("always-503", "manifests/v1")).isEqualTo(404);
        }

        @Test
        void manifestPutThatKeepsFailingGivesUpAfterTheConfiguredAttempts() throws Exception {
            proxy.failRequests(MANIFEST_PUT, 502, Integer.MAX_VALUE);

            assertThatThrownBy(() -> push("manifest-502", Fixtures.client(source).retries(2), PushOptions.defaults()))
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining("manifest " + image.descriptor().digest())
                    .hasMessageContaining(proxy.host())
                    .hasMessageContaining("502");

            assertThat(proxy.requests(MANIFEST_PUT)).isEqualTo(3);
            assertThat(headOnRegistry("manifest-502", "manifests/v1")).isEqualTo(404);
            try (RegistryClient client = Fixtures.client(source).build()) {
                assertThatThrownBy(() -> client.resolve(registry.host() + "/berth/manifest-502:v1"))
                        .isInstanceOf(NotFoundException.class);
            }
        }
    }
}
