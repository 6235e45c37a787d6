package dev.berth.image;

import static dev.berth.image.Hand.Blob;
import static dev.berth.image.Hand.Tar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.Digest;
import dev.berth.api.MediaTypes;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.NotFoundException;
import dev.berth.api.Platform;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.content.Info;
import dev.berth.api.image.Image;
import dev.berth.testing.TestLayer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What export writes: an OCI layout docker load and ctr import accept, with stored documents unchanged. */
class ExportConformanceTest {
    static final Platform HOST = Platform.host();
    static final Platform OTHER = HOST.architecture().equals("arm64") ? new Platform("linux", "amd64")
            : new Platform("linux", "arm64");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    Fixture f;
    final TestLayer base = Hand.layer("base", "base", Compression.GZIP);
    final TestLayer top = Hand.layer("top", "top", Compression.ZSTD);

    @BeforeEach
    void open() {
        f = new Fixture(tmp.resolve("a"));
    }

    @AfterEach
    void close() {
        f.close();
    }

    /** Regular-file entries of a tar, by name, in order. */
    static Map<String, byte[]> entries(byte[] tar) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                if (e.isFile()) {
                    if (out.put(e.getName(), in.readAllBytes()) != null) {
                        throw new AssertionError("duplicate entry " + e.getName());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private void put(List<Blob> blobs) {
        Map<Digest, byte[]> map = new LinkedHashMap<>();
        blobs.forEach(b -> map.put(b.digest(), b.bytes()));
        Fixture.put(f.store, map);
    }

    private byte[] export(ExportOptions options) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        f.service.export(out, options);
        return out.toByteArray();
    }

    private static JsonNode json(byte[] bytes) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An image whose documents carry fields no spec defines, which must survive byte for byte. */
    private Hand.Image imageWithUnknownFields(Platform p) {
        List<TestLayer> layers = List.of(base, top);
        List<Blob> layerBlobs = layers.stream().map(l -> Hand.layerBlob(l, l.ociMediaType())).toList();
        Blob config = Hand.config(MediaTypes.OCI_CONFIG, p, layers,
                "\"x-vendor\":{\"z\":1.50,\"a\":[true,null]},\"moby.buildkit.buildinfo.v1\":\"e30=\"");
        Blob manifest = Blob.json(MediaTypes.OCI_MANIFEST, "{\n  \"schemaVersion\": 2,\n  \"mediaType\": \""
                + MediaTypes.OCI_MANIFEST + "\",\n  \"config\": " + config.ref("\"x-desc\":\"kept\"")
                + ",\n  \"layers\": [" + layerBlobs.stream().map(Blob::ref).collect(Collectors.joining(", "))
                + "],\n  \"annotations\": {\"z\": \"1\", \"a\": \"2\"},\n  \"x-unknown\": [1, 2.0, \"\\u00e9\"]\n}\n");
        return new Hand.Image(manifest, config, layerBlobs, layers);
    }

    @Test
    void exportWritesALayoutDockerLoadAccepts() {
        Hand.Image img = imageWithUnknownFields(HOST);
        put(img.blobs());
        f.images.create(new Image("docker.io/library/app:1", img.manifest().descriptor()));
        f.images.create(new Image("example.com/team/app:2", img.manifest().descriptor()));

        Map<String, byte[]> tar = entries(export(ExportOptions.of("app:1", "example.com/team/app:2")));

        assertThat(new String(tar.get("oci-layout"))).isEqualTo("{\"imageLayoutVersion\":\"1.0.0\"}");
        JsonNode manifestJson = json(tar.get("manifest.json"));
        assertThat(manifestJson).hasSize(1);
        JsonNode entry = manifestJson.get(0);
        assertThat(entry.get("Config").asText()).isEqualTo(img.config().path());
        assertThat(entry.get("RepoTags")).extracting(JsonNode::asText)
                .containsExactly("app:1", "example.com/team/app:2");
        assertThat(entry.get("Layers")).extracting(JsonNode::asText)
                .containsExactly(img.layers().get(0).path(), img.layers().get(1).path());
        for (JsonNode path : entry.get("Layers")) {
            assertThat(tar).containsKey(path.asText());
        }
        JsonNode index = json(tar.get("index.json"));
        assertThat(index.get("schemaVersion").asInt()).isEqualTo(2);
        assertThat(index.get("manifests")).hasSize(2);
        JsonNode first = index.get("manifests").get(0);
        assertThat(first.get("digest").asText()).isEqualTo(img.manifest().digest().toString());
        assertThat(first.get("annotations").get("io.containerd.image.name").asText()).isEqualTo("docker.io/library/app:1");
        assertThat(first.get("annotations").get("org.opencontainers.image.ref.name").asText()).isEqualTo("1");
        for (Blob b : img.blobs()) {
            assertThat(tar.get(b.path())).as(b.path()).isEqualTo(b.bytes());
        }
    }

    @Test
    void unknownFieldsSurviveImportThenExportByteForByte() {
        Hand.Image img = imageWithUnknownFields(HOST);
        Blob idx = Hand.index(MediaTypes.OCI_INDEX, List.of(img.manifest().ref(Hand.platform(HOST)
                + ",\"x-entry\":{\"k\":\"v\"}")), "\"annotations\":{\"b\":\"1\",\"a\":\"2\"},\"x-index\":null");
        String indexJson = "{\"schemaVersion\":2,\"manifests\":[" + idx.ref(
                "\"annotations\":{\"io.containerd.image.name\":\"example.com/odd:1\"}") + "]}";
        f.service.importArchive(new ByteArrayInputStream(new Tar().blobs("", img.blobs()).blob("", idx)
                .file("index.json", indexJson).ociLayout("").bytes()));

        Map<String, byte[]> tar = entries(export(ExportOptions.of("example.com/odd:1")));

        assertThat(tar.get(idx.path())).isEqualTo(idx.bytes());
        assertThat(tar.get(img.manifest().path())).isEqualTo(img.manifest().bytes());
        assertThat(tar.get(img.config().path())).isEqualTo(img.config().bytes());
        assertThat(json(tar.get("index.json")).get("manifests").get(0).get("digest").asText())
                .isEqualTo(idx.digest().toString());
    }

    @Test
    void exportThenImportKeepsEveryDigest() {
        Hand.Image host = imageWithUnknownFields(HOST);
        Hand.Image other = imageWithUnknownFields(OTHER);
        Blob idx = Hand.index(MediaTypes.OCI_INDEX, List.of(host.manifest().ref(Hand.platform(HOST)),
                other.manifest().ref(Hand.platform(OTHER))), "");
        put(host.blobs());
        put(other.blobs());
        put(List.of(idx));
        f.images.create(new Image("example.com/multi:1", idx.descriptor()));
        f.images.create(new Image("example.com/single:1", host.manifest().descriptor()));
        byte[] archive = export(ExportOptions.of("example.com/multi:1", "example.com/single:1").allPlatforms());

        try (Fixture g = new Fixture(tmp.resolve("b"))) {
            List<Image> imported = g.service.importArchive(new ByteArrayInputStream(archive),
                    ImportOptions.defaults().allPlatforms());
            assertThat(imported).extracting(Image::name).containsExactly("example.com/multi:1", "example.com/single:1");
            assertThat(imported).extracting(i -> i.target().digest())
                    .containsExactly(idx.digest(), host.manifest().digest());
            Set<Digest> stored = g.store.list().stream().map(Info::digest).collect(Collectors.toSet());
            List<Blob> all = new ArrayList<>(host.blobs());
            all.addAll(other.blobs());
            all.add(idx);
            assertThat(stored).containsAll(all.stream().map(Blob::digest).toList());
            ResolvedImage r = g.service.resolve("example.com/multi:1", PlatformMatcher.only(OTHER));
            assertThat(r.manifestDescriptor().digest()).isEqualTo(other.manifest().digest());
        }
    }

    @Test
    void aPlatformSubsetExportKeepsTheIndexButOnlyThatPlatformsBlobs() {
        TestLayer otherLayer = Hand.layer("other", "other", Compression.GZIP);
        Hand.Image host = Hand.ociImage(HOST, List.of(base));
        Hand.Image other = Hand.ociImage(OTHER, List.of(otherLayer));
        Blob idx = Hand.index(MediaTypes.OCI_INDEX, List.of(host.manifest().ref(Hand.platform(HOST)),
                other.manifest().ref(Hand.platform(OTHER))), "");
        put(host.blobs());
        put(other.blobs());
        put(List.of(idx));
        f.images.create(new Image("example.com/multi:1", idx.descriptor()));

        byte[] archive = export(ExportOptions.of("example.com/multi:1").withPlatforms(PlatformMatcher.only(HOST)));
        Map<String, byte[]> tar = entries(archive);

        assertThat(tar.get(idx.path())).isEqualTo(idx.bytes());
        assertThat(tar).containsKeys(host.manifest().path(), host.config().path(), host.layers().get(0).path());
        assertThat(tar).doesNotContainKeys(other.manifest().path(), other.config().path(), other.layers().get(0).path());
        assertThat(json(tar.get("manifest.json")).get(0).get("Config").asText()).isEqualTo(host.config().path());

        try (Fixture g = new Fixture(tmp.resolve("b"))) {
            assertThat(g.service.importArchive(new ByteArrayInputStream(archive))).extracting(i -> i.target().digest())
                    .containsExactly(idx.digest());
            assertThatThrownBy(() -> g.service.importArchive(new ByteArrayInputStream(archive),
                    ImportOptions.defaults().allPlatforms())).isInstanceOf(NotFoundException.class)
                    .hasMessageContaining(other.manifest().digest().toString());
        }
    }

    @Test
    void sharedBlobsAreWrittenOnce() {
        Hand.Image one = Hand.ociImage(HOST, List.of(base, top));
        Hand.Image two = Hand.ociImage(HOST, List.of(base));
        put(one.blobs());
        put(two.blobs());
        f.images.create(new Image("example.com/one:1", one.manifest().descriptor()));
        f.images.create(new Image("example.com/two:1", two.manifest().descriptor()));
        Map<String, byte[]> tar = entries(export(ExportOptions.of("example.com/one:1", "example.com/two:1")));
        assertThat(tar.keySet().stream().filter(k -> k.startsWith("blobs/")))
                .containsExactlyInAnyOrder(one.layers().get(0).path(), one.layers().get(1).path(),
                        one.config().path(), one.manifest().path(), two.config().path(), two.manifest().path());
        assertThat(json(tar.get("manifest.json"))).hasSize(2);
    }

    @Test
    void anUntaggedDigestNameExportsWithoutARepoTag() {
        Hand.Image img = Hand.ociImage(HOST, List.of(base));
        put(img.blobs());
        String name = "example.com/pinned@" + img.manifest().digest();
        f.images.create(new Image(name, img.manifest().descriptor()));
        Map<String, byte[]> tar = entries(export(ExportOptions.of(name)));
        assertThat(json(tar.get("manifest.json")).get(0).get("RepoTags")).isEmpty();
        JsonNode annotations = json(tar.get("index.json")).get("manifests").get(0).get("annotations");
        assertThat(annotations.get("io.containerd.image.name").asText()).isEqualTo(name);
        assertThat(annotations.has("org.opencontainers.image.ref.name")).isFalse();
    }

    @Test
    void aTagAndDigestNameGivesDockerOnlyTheTag() {
        Hand.Image img = Hand.ociImage(HOST, List.of(base));
        put(img.blobs());
        String name = "example.com/both:1@" + img.manifest().digest();
        f.images.create(new Image(name, img.manifest().descriptor()));
        Map<String, byte[]> tar = entries(export(ExportOptions.of(name)));
        assertThat(json(tar.get("manifest.json")).get(0).get("RepoTags")).extracting(JsonNode::asText)
                .containsExactly("example.com/both:1");
        JsonNode annotations = json(tar.get("index.json")).get("manifests").get(0).get("annotations");
        assertThat(annotations.get("io.containerd.image.name").asText()).isEqualTo(name);
        assertThat(annotations.get("org.opencontainers.image.ref.name").asText()).isEqualTo("1");
    }

    @Test
    void exportingAMissingImageIsNotFound() {
        assertThatThrownBy(() -> export(ExportOptions.of("example.com/none:1")))
                .isInstanceOf(NotFoundException.class).hasMessageContaining("example.com/none:1");
    }
}
