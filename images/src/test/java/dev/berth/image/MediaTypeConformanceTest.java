package dev.berth.image;

import static dev.berth.image.Hand.Blob;
import static dev.berth.image.Hand.Tar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.MediaTypes;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.NotFoundException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.Platform;
import dev.berth.api.image.Image;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.snapshot.Snapshotters;
import dev.berth.testing.LayerBuilder;
import dev.berth.testing.TestLayer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every layer media type containerd knows, foreign layers, OCI 1.1 fields and odd image configs. */
class MediaTypeConformanceTest {
    static final Platform HOST = Platform.host();

    @TempDir
    Path tmp;
    Snapshotter sn;
    Fixture f;

    @BeforeEach
    void open() {
        sn = Snapshotters.nativeSnapshotter(tmp.resolve("snapshots"));
        f = new Fixture(tmp.resolve("root"), sn, true);
    }

    @AfterEach
    void close() {
        f.close();
        sn.close();
    }

    private void put(List<Blob> blobs) {
        Map<Digest, byte[]> map = new LinkedHashMap<>();
        blobs.forEach(b -> map.put(b.digest(), b.bytes()));
        Fixture.put(f.store, map);
    }

    private Hand.Image imageWith(String mediaType, TestLayer layer) {
        Blob l = Hand.layerBlob(layer, mediaType);
        Blob config = Hand.config(MediaTypes.OCI_CONFIG, HOST, List.of(layer), "");
        return new Hand.Image(Hand.manifest(MediaTypes.OCI_MANIFEST, config, List.of(l), ""), config, List.of(l),
                List.of(layer));
    }

    private List<Image> importLayout(String name, List<Blob> blobs, Blob target) {
        String index = "{\"schemaVersion\":2,\"manifests\":[" + target.ref(
                "\"annotations\":{\"io.containerd.image.name\":\"" + name + "\"}") + "]}";
        return f.service.importArchive(new ByteArrayInputStream(
                new Tar().blobs("", blobs).file("index.json", index).ociLayout("").bytes()));
    }

    @ParameterizedTest(name = "{0} ({1})")
    @CsvSource({
            "application/vnd.oci.image.layer.v1.tar, NONE",
            "application/vnd.oci.image.layer.v1.tar+gzip, GZIP",
            "application/vnd.oci.image.layer.v1.tar+zstd, ZSTD",
            "application/vnd.oci.image.layer.nondistributable.v1.tar, NONE",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip, GZIP",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd, ZSTD",
            "application/vnd.docker.image.rootfs.diff.tar.gzip, GZIP",
            "application/vnd.docker.image.rootfs.diff.tar, NONE",
            "application/vnd.docker.image.rootfs.diff.tar, GZIP",
            "application/vnd.docker.image.rootfs.diff.tar, ZSTD",
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip, GZIP",
            "application/vnd.docker.image.rootfs.foreign.diff.tar, NONE",
    })
    void everyLayerMediaTypeUnpacks(String mediaType, Compression compression) {
        TestLayer layer = Hand.layer("m", mediaType, compression);
        Hand.Image img = imageWith(mediaType, layer);
        importLayout("example.com/m:1", img.blobs(), img.manifest());
        UnpackResult r = f.service.unpack("example.com/m:1");
        assertThat(Fixture.tree(sn, r.topChainId(), tmp).get("/etc/m")).isPresent();
    }

    @Test
    void aMultiMemberGzipLayerUnpacksEveryMember() throws Exception {
        // eStargz and concatenated gzip layers: one gzip member per slice of the tar
        TestLayer plain = LayerBuilder.create().dir("etc").file("etc/first", "a".repeat(3000))
                .file("etc/last", "written by the last member").build(Compression.NONE);
        ByteArrayOutputStream members = new ByteArrayOutputStream();
        for (int off = 0; off < plain.tar().length; off += 1024) {
            try (var gz = new java.util.zip.GZIPOutputStream(members) {
                @Override
                public void close() throws java.io.IOException {
                    finish(); // end this member, keep the shared stream open
                }
            }) {
                gz.write(plain.tar(), off, Math.min(1024, plain.tar().length - off));
            }
        }
        byte[] blob = members.toByteArray();
        TestLayer layer = new TestLayer(blob, plain.tar(), Compression.GZIP, Digest.sha256(blob), plain.diffId(),
                plain.entries());
        Hand.Image img = imageWith(MediaTypes.OCI_LAYER_GZIP, layer);
        importLayout("example.com/multi:1", img.blobs(), img.manifest());

        UnpackResult r = f.service.unpack("example.com/multi:1");

        assertThat(Fixture.tree(sn, r.topChainId(), tmp).get("/etc/last")).isPresent();
    }

    @Test
    void anEncryptedLayerIsNotImplementedAndLeavesNoSnapshot() {
        TestLayer layer = Hand.layer("e", "e", Compression.GZIP);
        Hand.Image img = imageWith("application/vnd.oci.image.layer.v1.tar+gzip+encrypted", layer);
        importLayout("example.com/enc:1", img.blobs(), img.manifest());
        assertThatThrownBy(() -> f.service.unpack("example.com/enc:1")).isInstanceOf(NotImplementedException.class)
                .hasMessageContaining("+encrypted");
        assertThat(sn.list()).isEmpty();
    }

    @Nested
    class ForeignLayers {
        final TestLayer windowsBase = Hand.layer("foreign", "from mcr", Compression.GZIP);
        final TestLayer app = Hand.layer("app", "app", Compression.GZIP);
        final String url = "https://mcr.microsoft.com/v2/windows/servercore/blobs/" + windowsBase.digest();

        Hand.Image image(String foreignType) {
            Blob foreign = new Blob(foreignType, windowsBase.blob());
            Blob appLayer = Hand.layerBlob(app, MediaTypes.OCI_LAYER_GZIP);
            Blob config = Hand.config(MediaTypes.OCI_CONFIG, HOST, List.of(windowsBase, app), "");
            String manifest = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
                    + config.ref() + ",\"layers\":[" + foreign.ref("\"urls\":[\"" + url + "\"]") + "," + appLayer.ref() + "]}";
            return new Hand.Image(Blob.json(MediaTypes.OCI_MANIFEST, manifest), config, List.of(foreign, appLayer),
                    List.of(windowsBase, app));
        }

        @ParameterizedTest
        @CsvSource({
                "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        })
        void anAbsentForeignLayerIsImportedButCannotBeUnpackedUntilProvided(String foreignType) {
            Hand.Image img = image(foreignType);
            List<Blob> withoutForeign = List.of(img.layers().get(1), img.config(), img.manifest());

            assertThat(importLayout("example.com/win:1", withoutForeign, img.manifest())).hasSize(1);

            assertThatThrownBy(() -> f.service.unpack("example.com/win:1")).isInstanceOf(NotFoundException.class)
                    .hasMessageContaining("non-distributable").hasMessageContaining(windowsBase.digest().toString())
                    .hasMessageContaining(url);
            assertThat(sn.list()).isEmpty();

            put(List.of(img.layers().get(0)));
            UnpackResult r = f.service.unpack("example.com/win:1");
            assertThat(Fixture.tree(sn, r.topChainId(), tmp).get("/etc/foreign")).isPresent();
        }

        @Test
        void anAbsentForeignLayerIsLeftOutOfAnExportAndDescribedInLayerSources() throws Exception {
            Hand.Image img = image(MediaTypes.DOCKER_LAYER_FOREIGN_GZIP);
            importLayout("example.com/win:1", List.of(img.layers().get(1), img.config(), img.manifest()), img.manifest());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            f.service.export(out, "example.com/win:1");
            Map<String, byte[]> tar = ExportConformanceTest.entries(out.toByteArray());

            assertThat(tar).doesNotContainKey(img.layers().get(0).path()).containsKey(img.layers().get(1).path());
            JsonNode entry = new ObjectMapper().readTree(tar.get("manifest.json")).get(0);
            JsonNode source = entry.get("LayerSources").get(windowsBase.diffId().toString());
            assertThat(source.get("mediaType").asText()).isEqualTo(MediaTypes.DOCKER_LAYER_FOREIGN_GZIP);
            assertThat(source.get("digest").asText()).isEqualTo(windowsBase.digest().toString());
            assertThat(source.get("urls").get(0).asText()).isEqualTo(url);
            assertThat(entry.get("LayerSources").has(app.diffId().toString())).isFalse();

            try (Fixture g = new Fixture(tmp.resolve("b"))) {
                assertThat(g.service.importArchive(new ByteArrayInputStream(out.toByteArray())))
                        .extracting(i -> i.target().digest()).containsExactly(img.manifest().digest());
            }
        }

        @Test
        void dockerSaveLayerSourcesStandInForAMissingLayerFile() {
            Blob config = Hand.config(MediaTypes.DOCKER_CONFIG, HOST, List.of(windowsBase, app), "");
            String manifestJson = "[{\"Config\":\"" + config.hex() + ".json\",\"RepoTags\":[\"win:1\"],\"Layers\":[\""
                    + windowsBase.diffId().hex() + "/layer.tar\",\"app/layer.tar\"],\"LayerSources\":{\""
                    + windowsBase.diffId() + "\":{\"mediaType\":\"" + MediaTypes.DOCKER_LAYER_FOREIGN_GZIP
                    + "\",\"size\":" + windowsBase.size() + ",\"digest\":\"" + windowsBase.digest() + "\",\"urls\":[\""
                    + url + "\"]}}}]";
            byte[] archive = new Tar().file("app/layer.tar", app.tar()).file(config.hex() + ".json", config.bytes())
                    .file("manifest.json", manifestJson).bytes();

            f.service.importArchive(new ByteArrayInputStream(archive));

            ResolvedImage r = f.service.resolve("win:1");
            assertThat(r.layers().get(0).mediaType()).isEqualTo(MediaTypes.DOCKER_LAYER_FOREIGN_GZIP);
            assertThat(r.layers().get(0).urls()).containsExactly(url);
            assertThat(r.layers().get(1).digest()).isEqualTo(app.diffId());
        }
    }

    @Nested
    class Oci11 {
        final Blob empty = Blob.json(MediaTypes.OCI_EMPTY, "{}");

        @Test
        void theEmptyDescriptorHasItsWellKnownDigest() {
            assertThat(empty.digest()).hasToString(Hand.EMPTY_JSON_DIGEST);
            assertThat(empty.size()).isEqualTo(2);
        }

        @Test
        void embeddedDataStandsInForAMissingBlobAndIsVerified() {
            Blob payload = Blob.json("application/vnd.example.payload", "payload");
            Blob artifact = Blob.json(MediaTypes.OCI_MANIFEST, "{\"schemaVersion\":2,\"mediaType\":\""
                    + MediaTypes.OCI_MANIFEST + "\",\"artifactType\":\"application/vnd.example\",\"config\":"
                    + empty.ref("\"data\":\"e30=\"") + ",\"layers\":[" + payload.ref() + "]}");

            importLayout("example.com/artifact:1", List.of(payload, artifact), artifact);

            assertThat(dev.berth.content.Content.readBlob(f.store, empty.descriptor())).isEqualTo(empty.bytes());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            f.service.export(out, ExportOptions.of("example.com/artifact:1").withoutDockerManifest());
            assertThat(ExportConformanceTest.entries(out.toByteArray()).get(empty.path())).isEqualTo(empty.bytes());
        }

        @Test
        void embeddedDataThatDoesNotMatchItsDigestFailsTheImport() {
            String forged = java.util.Base64.getEncoder().encodeToString("[]".getBytes(StandardCharsets.UTF_8));
            Blob payload = Blob.json("application/vnd.example.payload", "payload");
            Blob artifact = Blob.json(MediaTypes.OCI_MANIFEST, "{\"schemaVersion\":2,\"config\":"
                    + empty.ref("\"data\":\"" + forged + "\"") + ",\"layers\":[" + payload.ref() + "]}");
            assertThatThrownBy(() -> importLayout("example.com/forged:1", List.of(payload, artifact), artifact))
                    .isInstanceOf(BlobMismatchException.class).hasMessageContaining("embedded data")
                    .hasMessageContaining(Hand.EMPTY_JSON_DIGEST);
            assertThat(f.images.list()).isEmpty();
        }

        @Test
        void subjectArtifactTypeAndDescriptorFieldsSurviveImportAndExport() {
            Hand.Image img = Hand.ociImage(HOST, List.of(Hand.layer("s", "s", Compression.GZIP)));
            Blob sig = Blob.json("application/vnd.dev.cosign.simplesigning.v1+json", "{\"critical\":{}}");
            Blob referrer = Blob.json(MediaTypes.OCI_MANIFEST, "{\"schemaVersion\":2,\"mediaType\":\""
                    + MediaTypes.OCI_MANIFEST + "\",\"artifactType\":\"application/vnd.dev.cosign.artifact.sig.v1+json\","
                    + "\"config\":" + empty.ref() + ",\"layers\":[" + sig.ref("\"annotations\":{\"dev.cosignproject.cosign/signature\":\"MEUC\"}")
                    + "],\"subject\":" + img.manifest().ref() + "}");
            Blob idx = Hand.index(MediaTypes.OCI_INDEX, List.of(img.manifest().ref(Hand.platform(HOST)),
                    referrer.ref("\"artifactType\":\"application/vnd.dev.cosign.artifact.sig.v1+json\"")), "");
            List<Image> imported = importLayout("example.com/signed:1",
                    List.of(img.layers().get(0), img.config(), img.manifest(), empty, sig, referrer, idx), idx);

            assertThat(imported.get(0).target().digest()).isEqualTo(idx.digest());
            assertThat(f.service.resolve("example.com/signed:1").manifestDescriptor().digest())
                    .isEqualTo(img.manifest().digest());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            f.service.export(out, ExportOptions.of("example.com/signed:1").allPlatforms());
            Map<String, byte[]> tar = ExportConformanceTest.entries(out.toByteArray());
            assertThat(tar.get(referrer.path())).isEqualTo(referrer.bytes());
            assertThat(tar.get(idx.path())).isEqualTo(idx.bytes());
        }

        @Test
        void exportedIndexJsonKeepsTheTargetsArtifactType() throws Exception {
            Hand.Image img = Hand.ociImage(HOST, List.of(Hand.layer("t", "t", Compression.GZIP)));
            put(img.blobs());
            f.images.create(new Image("example.com/typed:1",
                    img.manifest().descriptor().withArtifactType("application/vnd.example.thing")));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            f.service.export(out, "example.com/typed:1");
            JsonNode entry = new ObjectMapper().readTree(ExportConformanceTest.entries(out.toByteArray()).get("index.json"))
                    .get("manifests").get(0);
            assertThat(entry.get("artifactType").asText()).isEqualTo("application/vnd.example.thing");
        }
    }

    @Nested
    class Configs {
        final TestLayer layer = Hand.layer("c", "c", Compression.GZIP);

        private Hand.Image withConfig(String configJson) {
            Blob config = Blob.json(MediaTypes.OCI_CONFIG, configJson);
            Blob l = Hand.layerBlob(layer, MediaTypes.OCI_LAYER_GZIP);
            return new Hand.Image(Hand.manifest(MediaTypes.OCI_MANIFEST, config, List.of(l), ""), config, List.of(l),
                    List.of(layer));
        }

        private String platformFields() {
            return "\"architecture\":\"" + HOST.architecture() + "\",\"os\":\"" + HOST.os() + "\"";
        }

        @Test
        void aConfigWithoutDiffIdsIsAClearMismatch() {
            Hand.Image img = withConfig("{" + platformFields() + "}");
            assertThatThrownBy(() -> importLayout("example.com/nodiff:1", img.blobs(), img.manifest()))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("1 layers")
                    .hasMessageContaining("0 diff_ids").hasMessageContaining(img.config().digest().toString());
            assertThat(f.images.list()).isEmpty();
            put(img.blobs());
            f.images.create(new Image("example.com/nodiff:1", img.manifest().descriptor()));
            assertThatThrownBy(() -> f.service.resolve("example.com/nodiff:1"))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("mismatched image rootfs");
        }

        @Test
        void emptyLayerHistoryEntriesAreNotLayers() {
            Hand.Image img = withConfig("{" + platformFields() + ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
                    + layer.diffId() + "\"]},\"history\":[{\"created_by\":\"/bin/sh -c #(nop) ENV A=1\",\"empty_layer\":true},"
                    + "{\"created_by\":\"COPY c\"},{\"created_by\":\"CMD sh\",\"empty_layer\":true},"
                    + "{\"created_by\":\"LABEL x\",\"empty_layer\":true}]}");
            importLayout("example.com/hist:1", img.blobs(), img.manifest());
            ResolvedImage r = f.service.resolve("example.com/hist:1");
            assertThat(r.config().history()).hasSize(4);
            assertThat(f.service.unpack("example.com/hist:1").applied()).isEqualTo(1);
        }

        @Test
        void nullEnvEntrypointAndCmdReadAsAbsent() {
            Hand.Image img = withConfig("{" + platformFields() + ",\"config\":{\"Env\":null,\"Entrypoint\":null,"
                    + "\"Cmd\":null,\"Labels\":null,\"ExposedPorts\":null,\"Volumes\":null,\"User\":\"\"},"
                    + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + layer.diffId() + "\"]}}");
            importLayout("example.com/nulls:1", img.blobs(), img.manifest());
            ResolvedImage r = f.service.resolve("example.com/nulls:1");
            assertThat(r.config().config().env()).isEmpty();
            assertThat(r.config().config().entrypoint()).isEmpty();
            assertThat(r.config().config().cmd()).isEmpty();
            assertThat(f.service.unpack("example.com/nulls:1").applied()).isEqualTo(1);
        }

        @Test
        void aHugeLabelMapIsKept() {
            String labels = IntStream.range(0, 20_000).mapToObj(i -> "\"org.example.label." + i + "\":\"value " + i + "\"")
                    .collect(Collectors.joining(","));
            Hand.Image img = withConfig("{" + platformFields() + ",\"config\":{\"Labels\":{" + labels + "}},"
                    + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + layer.diffId() + "\"]}}");
            importLayout("example.com/labels:1", img.blobs(), img.manifest());
            ResolvedImage r = f.service.resolve("example.com/labels:1");
            assertThat(r.config().config().labels()).hasSize(20_000).containsEntry("org.example.label.19999", "value 19999");
            assertThat(dev.berth.content.Content.readBlob(f.store, img.config().descriptor())).isEqualTo(img.config().bytes());
        }

        @Test
        void aConfigWithTheWrongDiffIdFailsUnpackAndLeavesNoSnapshot() {
            TestLayer other = LayerBuilder.create().file("x", "y").build(Compression.GZIP);
            Hand.Image img = withConfig("{" + platformFields() + ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
                    + other.diffId() + "\"]}}");
            importLayout("example.com/wrong:1", img.blobs(), img.manifest());
            assertThatThrownBy(() -> f.service.unpack("example.com/wrong:1")).isInstanceOf(DiffIdMismatchException.class)
                    .hasMessageContaining(other.diffId().toString());
            assertThat(sn.list()).isEmpty();
        }
    }
}
