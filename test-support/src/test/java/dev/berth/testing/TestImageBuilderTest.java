package dev.berth.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.MediaTypes;
import dev.berth.api.Platform;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class TestImageBuilderTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static TestLayer layer(String file, String content) {
        return LayerBuilder.create().file(file, content).build();
    }

    /** Asserts {@code node} is a descriptor of exactly {@code bytes}. */
    static void assertDescribes(JsonNode node, String mediaType, byte[] bytes) {
        assertThat(node.get("mediaType").asText()).isEqualTo(mediaType);
        assertThat(node.get("digest").asText()).isEqualTo(Digest.sha256(bytes).toString());
        assertThat(node.get("size").asLong()).isEqualTo(bytes.length);
    }

    @Nested
    class SinglePlatform {
        private final TestLayer base = layer("a", "1");
        private final TestLayer top = LayerBuilder.create().file("b", "2").build(Compression.ZSTD);
        private final TestImage image = TestImageBuilder.create()
                .platform(Platform.parse("linux/arm/v7"))
                .layer(base).layer(top)
                .entrypoint("/bin/sh", "-c").cmd("echo hi")
                .env("PATH=/bin", "A=b").workingDir("/work").user("1000:1000")
                .label("org.example", "yes").annotation("org.opencontainers.image.title", "t")
                .build();

        @Test
        void manifestDescribesConfigAndLayersByDigestAndSize() throws IOException {
            JsonNode manifest = JSON.readTree(image.bytes());

            assertThat(manifest.get("schemaVersion").asInt()).isEqualTo(2);
            assertThat(manifest.get("mediaType").asText()).isEqualTo(MediaTypes.OCI_MANIFEST);
            assertDescribes(manifest.get("config"), MediaTypes.OCI_CONFIG, image.configBytes());
            assertDescribes(manifest.get("layers").get(0), MediaTypes.OCI_LAYER_GZIP, base.blob());
            assertDescribes(manifest.get("layers").get(1), MediaTypes.OCI_LAYER_ZSTD, top.blob());
            assertThat(manifest.get("annotations").get("org.opencontainers.image.title").asText()).isEqualTo("t");
            assertThat(image.descriptor()).isEqualTo(Descriptor.of(MediaTypes.OCI_MANIFEST, image.bytes()));
        }

        @Test
        void configCarriesPlatformProcessSettingsAndDiffIds() throws IOException {
            JsonNode config = JSON.readTree(image.configBytes());

            assertThat(config.get("architecture").asText()).isEqualTo("arm");
            assertThat(config.get("variant").asText()).isEqualTo("v7");
            assertThat(config.get("os").asText()).isEqualTo("linux");
            JsonNode c = config.get("config");
            assertThat(c.get("Entrypoint")).extracting(JsonNode::asText).containsExactly("/bin/sh", "-c");
            assertThat(c.get("Cmd")).extracting(JsonNode::asText).containsExactly("echo hi");
            assertThat(c.get("Env")).extracting(JsonNode::asText).containsExactly("PATH=/bin", "A=b");
            assertThat(c.get("WorkingDir").asText()).isEqualTo("/work");
            assertThat(c.get("User").asText()).isEqualTo("1000:1000");
            assertThat(c.get("Labels").get("org.example").asText()).isEqualTo("yes");
            assertThat(config.get("rootfs").get("type").asText()).isEqualTo("layers");
            assertThat(config.get("rootfs").get("diff_ids")).extracting(JsonNode::asText).containsExactly(
                    Digest.sha256(base.tar()).toString(), Digest.sha256(top.tar()).toString());
            assertThat(config.get("history")).hasSize(2);
            assertThat(image.diffIds()).containsExactly(base.diffId(), top.diffId());
        }

        @Test
        void chainIdsFollowTheOciFormula() {
            Digest expected = Digest.sha256((base.diffId() + " " + top.diffId()).getBytes(StandardCharsets.UTF_8));
            assertThat(image.chainIds()).containsExactly(base.diffId(), expected);
        }

        @Test
        void blobsHoldEveryReferencedBlobUnderItsDigest() {
            Map<Digest, byte[]> blobs = image.blobs();
            assertThat(blobs.keySet()).containsExactly(image.config().digest(), base.digest(), top.digest(),
                    image.descriptor().digest());
            blobs.forEach((digest, bytes) -> assertThat(Digest.sha256(bytes)).isEqualTo(digest));
        }

        @Test
        void sameInputsGiveSameManifestDigest() {
            TestImage again = TestImageBuilder.create().layer(layer("a", "1")).build();
            assertThat(again.descriptor()).isEqualTo(TestImageBuilder.create().layer(layer("a", "1")).build().descriptor());
        }
    }

    @Test
    void dockerMediaTypesApplyToManifestConfigAndLayers() throws IOException {
        TestImage image = TestImageBuilder.create().dockerMediaTypes()
                .layer(layer("a", "1")).layer(LayerBuilder.create().file("b", "").build(Compression.NONE)).build();

        JsonNode manifest = JSON.readTree(image.bytes());
        assertThat(manifest.get("mediaType").asText()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
        assertThat(manifest.get("config").get("mediaType").asText()).isEqualTo(MediaTypes.DOCKER_CONFIG);
        assertThat(manifest.get("layers")).extracting(l -> l.get("mediaType").asText())
                .containsExactly(MediaTypes.DOCKER_LAYER_GZIP, MediaTypes.DOCKER_LAYER);
        assertThat(image.descriptor().mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
    }

    @Test
    void rawConfigIsUsedVerbatim() {
        byte[] config = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}".getBytes(StandardCharsets.UTF_8);
        TestImage image = TestImageBuilder.create().layer(layer("a", "1")).rawConfig(config).build();

        assertThat(image.configBytes()).isEqualTo(config);
        assertThat(image.config().digest()).isEqualTo(Digest.sha256(config));
    }

    @Nested
    class Indexes {
        private final TestImage amd64 = TestImageBuilder.create().platform(Platform.parse("linux/amd64"))
                .layer(layer("platform", "amd64")).build();
        private final TestImage arm64 = TestImageBuilder.create().platform(Platform.parse("linux/arm64"))
                .layer(layer("platform", "arm64")).build();

        @Test
        void multiPlatformIndexListsEachManifestWithItsPlatform() throws IOException {
            TestIndex index = IndexBuilder.create().manifest(amd64).manifest(arm64).build();

            JsonNode json = JSON.readTree(index.bytes());
            assertThat(json.get("mediaType").asText()).isEqualTo(MediaTypes.OCI_INDEX);
            JsonNode entries = json.get("manifests");
            assertDescribes(entries.get(0), MediaTypes.OCI_MANIFEST, amd64.bytes());
            assertDescribes(entries.get(1), MediaTypes.OCI_MANIFEST, arm64.bytes());
            assertThat(entries.get(0).get("platform").get("architecture").asText()).isEqualTo("amd64");
            assertThat(entries.get(1).get("platform").get("architecture").asText()).isEqualTo("arm64");
            assertThat(entries.get(1).get("platform").get("os").asText()).isEqualTo("linux");
            assertThat(amd64.diffIds()).doesNotContainAnyElementsOf(arm64.diffIds());
            assertThat(index.images()).containsExactly(amd64, arm64);
            assertThat(index.blobs()).containsKeys(amd64.config().digest(), arm64.layers().get(0).digest(),
                    index.descriptor().digest());
        }

        @Test
        void nestedIndexIsAnEntryWithoutPlatform() throws IOException {
            TestIndex inner = IndexBuilder.create().manifest(arm64).build();
            TestIndex outer = IndexBuilder.create().manifest(amd64).manifest(inner).build();

            JsonNode entries = JSON.readTree(outer.bytes()).get("manifests");
            assertDescribes(entries.get(1), MediaTypes.OCI_INDEX, inner.bytes());
            assertThat(entries.get(1).has("platform")).isFalse();
            assertThat(outer.images()).containsExactly(amd64, arm64);
            assertThat(outer.blobs()).containsKey(inner.descriptor().digest()).containsKey(arm64.descriptor().digest());
        }

        @Test
        void dockerManifestListUsesDockerMediaTypes() throws IOException {
            TestImage d1 = TestImageBuilder.create().dockerMediaTypes().layer(layer("x", "1")).build();
            TestIndex list = IndexBuilder.create().dockerManifestList().manifest(d1).build();

            JsonNode json = JSON.readTree(list.bytes());
            assertThat(json.get("mediaType").asText()).isEqualTo(MediaTypes.DOCKER_MANIFEST_LIST);
            assertThat(json.get("manifests").get(0).get("mediaType").asText()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
            assertThat(list.descriptor().mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST_LIST);
        }

        @Test
        void referenceAddsAnEntryWithoutContent() throws IOException {
            Descriptor missing = Descriptor.of(MediaTypes.OCI_MANIFEST, "{}".getBytes(StandardCharsets.UTF_8))
                    .withPlatform(Platform.parse("linux/s390x"));
            TestIndex index = IndexBuilder.create().manifest(amd64).reference(missing).build();

            assertThat(JSON.readTree(index.bytes()).get("manifests")).hasSize(2);
            assertThat(index.manifests()).element(1).isEqualTo(missing);
            assertThat(index.blobs()).doesNotContainKey(missing.digest());
            assertThat(index.children()).containsExactly(amd64);
        }

        @Test
        void entryAnnotationsAreWrittenSorted() {
            TestIndex index = IndexBuilder.create().manifest(amd64, Map.of("b", "2", "a", "1")).build();
            assertThat(new String(index.bytes(), StandardCharsets.UTF_8)).contains("\"annotations\":{\"a\":\"1\",\"b\":\"2\"}");
            assertThat(index.manifests()).extracting(Descriptor::annotations).containsExactly(Map.of("a", "1", "b", "2"));
        }
    }

    @Test
    void imagesWithoutHistoryGetOneEntryPerLayer() throws IOException {
        TestImage image = TestImageBuilder.create().layer(layer("a", "")).layer(layer("b", "")).build();
        assertThat(JSON.readTree(image.configBytes()).get("history")).hasSize(2);
    }
}
