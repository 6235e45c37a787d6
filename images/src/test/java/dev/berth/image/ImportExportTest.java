package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.Descriptor;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.MediaTypes;
import dev.berth.api.NotFoundException;
import dev.berth.api.Platform;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.image.Image;
import dev.berth.testing.Busybox;
import dev.berth.testing.DockerArchive;
import dev.berth.testing.IndexBuilder;
import dev.berth.testing.LayerBuilder;
import dev.berth.testing.OciLayout;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestImageBuilder;
import dev.berth.testing.TestIndex;
import dev.berth.testing.TestLayer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImportExportTest {
    static final String BUSYBOX = "docker.io/library/busybox:latest";

    @TempDir
    Path tmp;
    Fixture f;

    @BeforeEach
    void open() {
        f = new Fixture(tmp.resolve("a"));
    }

    @AfterEach
    void close() {
        f.close();
    }

    static TestImage twoLayers(Compression c1, Compression c2) {
        return TestImageBuilder.create().platform(Platform.host())
                .layer(LayerBuilder.create().dir("etc").file("etc/one", "1").build(c1))
                .layer(LayerBuilder.create().file("etc/two", "2").whiteout("etc/one").build(c2))
                .build();
    }

    private void assertNothingLeft() {
        assertThat(f.images.list()).isEmpty();
        assertThat(f.store.listStatuses()).isEmpty();
    }

    @Nested
    class OciLayouts {
        @Test
        void ociLayoutTarIsImportedUnderItsContainerdName() {
            Path tar = tmp.resolve("busybox.tar");
            OciLayout.builder().image(BUSYBOX, Busybox.image()).writeTar(tar);

            List<Image> imported = f.service.importArchive(tar);

            assertThat(imported).extracting(Image::name).containsExactly(BUSYBOX);
            assertThat(imported.get(0).target().digest()).isEqualTo(Busybox.image().descriptor().digest());
            assertThat(imported.get(0).target().annotations()).isEmpty();
            ResolvedImage r = f.service.resolve(BUSYBOX);
            assertThat(r.diffIds()).isEqualTo(Busybox.image().diffIds());
            assertThat(f.store.listStatuses()).isEmpty();
        }

        @Test
        void ociLayoutDirectoryIsImported() {
            Path dir = tmp.resolve("layout");
            OciLayout.builder().image("example.com/x:1", Busybox.multiPlatformIndex()).writeDirectory(dir);
            List<Image> imported = f.service.importArchive(dir, ImportOptions.defaults().allPlatforms());
            assertThat(imported).extracting(Image::name).containsExactly("example.com/x:1");
            assertThat(imported.get(0).target().mediaType()).isEqualTo(MediaTypes.OCI_INDEX);
        }

        @Test
        void bareTagRefNamesGetABaseName() throws IOException {
            Path tar = tmp.resolve("ref.tar");
            OciLayout.builder().ref("v1", Busybox.image()).writeTar(tar);
            assertThat(f.service.importArchive(tar)).extracting(Image::name)
                    .containsExactly("docker.io/library/import-" + LocalDate.now(ZoneOffset.UTC) + ":v1");
            assertThat(f.service.importArchive(tar, ImportOptions.defaults().withBaseName("example.com/app")))
                    .extracting(Image::name).containsExactly("example.com/app:v1");
            Path full = tmp.resolve("full.tar");
            OciLayout.builder().ref("busybox", Busybox.image()).ref("foo/bar:2", Busybox.image()).writeTar(full);
            assertThat(f.service.importArchive(full, ImportOptions.defaults().withBaseName("example.com/app")))
                    .extracting(Image::name).containsExactly("example.com/app:busybox", "docker.io/foo/bar:2");
        }

        @Test
        void gzipCompressedArchiveIsAccepted() throws IOException {
            ByteArrayOutputStream raw = new ByteArrayOutputStream();
            OciLayout.builder().image(BUSYBOX, Busybox.image()).writeTar(raw);
            byte[] gz = LayerBuilder.compress(raw.toByteArray(), Compression.GZIP);
            assertThat(f.service.importArchive(new ByteArrayInputStream(gz))).extracting(Image::name)
                    .containsExactly(BUSYBOX);
        }

        @Test
        void otherPlatformsMayBeMissingButTheRequestedOneMustBeComplete() {
            TestIndex index = Busybox.multiPlatformIndex();
            TestImage host = index.images().get(0);
            TestImage foreign = index.images().get(1);
            Path tar = tmp.resolve("partial.tar");
            OciLayout.builder().image(BUSYBOX, index).omitBlob(foreign.descriptor().digest()).writeTar(tar);
            assertThat(f.service.importArchive(tar)).hasSize(1);

            Path broken = tmp.resolve("broken.tar");
            OciLayout.builder().image(BUSYBOX, index).omitBlob(foreign.descriptor().digest()).writeTar(broken);
            try (Fixture g = new Fixture(tmp.resolve("b"))) {
                assertThatThrownBy(() -> g.service.importArchive(broken, ImportOptions.defaults().allPlatforms()))
                        .isInstanceOf(NotFoundException.class)
                        .hasMessageContaining(foreign.descriptor().digest().toString());
                assertThat(g.images.list()).isEmpty();
            }
            assertThat(host.platform()).isEqualTo(Platform.host());
        }
    }

    @Nested
    class DockerArchives {
        @Test
        void dockerSaveWithUncompressedLayersBecomesASchema2Manifest() {
            TestImage img = twoLayers(Compression.GZIP, Compression.GZIP);
            Path tar = tmp.resolve("docker.tar");
            DockerArchive.builder().image(img, "busybox:latest", "example.com/b:2").write(tar);

            List<Image> imported = f.service.importArchive(tar);

            assertThat(imported).extracting(Image::name).containsExactly(BUSYBOX, "example.com/b:2");
            Descriptor target = imported.get(0).target();
            assertThat(target.mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
            ResolvedImage r = f.service.resolve(BUSYBOX);
            assertThat(r.manifest().config().mediaType()).isEqualTo(MediaTypes.DOCKER_CONFIG);
            assertThat(r.manifest().config().digest()).isEqualTo(img.config().digest());
            assertThat(r.layers()).extracting(Descriptor::mediaType).containsOnly(MediaTypes.DOCKER_LAYER);
            // an uncompressed layer is its own diffID
            assertThat(r.layers()).extracting(Descriptor::digest).isEqualTo(img.diffIds());
        }

        @Test
        void compressedLayersGetTheirMediaTypeFromTheirMagic() {
            TestImage img = TestImageBuilder.create().platform(Platform.host())
                    .layer(LayerBuilder.create().file("a", "a").build(Compression.GZIP))
                    .layer(LayerBuilder.create().file("b", "b").build(Compression.ZSTD))
                    .layer(LayerBuilder.create().file("c", "c").build(Compression.NONE))
                    .build();
            Path tar = tmp.resolve("docker.tar");
            DockerArchive.builder().image(img, "mixed:1").compressedLayers().write(tar);
            f.service.importArchive(tar);
            ResolvedImage r = f.service.resolve("docker.io/library/mixed:1");
            assertThat(r.layers()).extracting(Descriptor::mediaType).containsExactly(
                    MediaTypes.DOCKER_LAYER_GZIP, MediaTypes.OCI_LAYER_ZSTD, MediaTypes.DOCKER_LAYER);
            assertThat(r.layers()).extracting(Descriptor::digest)
                    .containsExactlyElementsOf(img.layers().stream().map(TestLayer::digest).toList());
        }

        @Test
        void symlinkedDuplicateLayersAreFollowed() {
            TestLayer shared = LayerBuilder.create().file("same", "x").build();
            TestImage img = TestImageBuilder.create().platform(Platform.host())
                    .layer(shared).layer(LayerBuilder.create().file("mid", "m").build()).layer(shared).build();
            Path tar = tmp.resolve("docker.tar");
            DockerArchive.Written written = DockerArchive.builder().image(img, "dup:1").symlinkDuplicateLayers()
                    .write(tar);
            assertThat(written.symlinks()).isNotEmpty();
            f.service.importArchive(tar);
            ResolvedImage r = f.service.resolve("dup:1");
            assertThat(r.layers()).hasSize(3);
            assertThat(r.layers().get(2).digest()).isEqualTo(r.layers().get(0).digest());
        }

        @Test
        void untaggedEntriesAreStoredButNotNamed() {
            Path tar = tmp.resolve("docker.tar");
            DockerArchive.builder().image(twoLayers(Compression.GZIP, Compression.GZIP)).write(tar);
            assertThat(f.service.importArchive(tar)).isEmpty();
        }

        @Test
        void corruptUncompressedLayerFailsTheImportAndNamesNothing() throws IOException {
            TestImage img = twoLayers(Compression.NONE, Compression.NONE);
            Path tar = tmp.resolve("docker.tar");
            DockerArchive.builder().image(img, "bad:1").write(tar);
            flip(tar, img.layers().get(1).tar());
            assertThatThrownBy(() -> f.service.importArchive(tar))
                    .isInstanceOf(BlobMismatchException.class)
                    .hasMessageContaining(img.diffIds().get(1).toString())
                    .hasMessageContaining("layer 1");
            assertNothingLeft();
        }

        @Test
        void configWhoseBytesDoNotMatchItsNameIsRejected() throws IOException {
            TestImage img = twoLayers(Compression.NONE, Compression.NONE);
            Path tar = tmp.resolve("docker.tar");
            DockerArchive.builder().image(img, "bad:1").write(tar);
            flip(tar, img.configBytes());
            assertThatThrownBy(() -> f.service.importArchive(tar))
                    .isInstanceOf(BlobMismatchException.class)
                    .hasMessageContaining(img.config().digest().toString());
            assertNothingLeft();
        }

        @Test
        void diffIdCountMismatchFailsTheImport() {
            TestImage good = twoLayers(Compression.NONE, Compression.NONE);
            String config = new String(good.configBytes(), StandardCharsets.UTF_8)
                    .replace("\"diff_ids\":[\"" + good.diffIds().get(0) + "\",", "\"diff_ids\":[");
            TestImage bad = TestImageBuilder.create().platform(Platform.host()).layer(good.layers().get(0))
                    .layer(good.layers().get(1)).rawConfig(config.getBytes(StandardCharsets.UTF_8)).build();
            Path tar = tmp.resolve("docker.tar");
            DockerArchive.builder().image(bad, "bad:1").write(tar);
            assertThatThrownBy(() -> f.service.importArchive(tar))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("2 layers")
                    .hasMessageContaining("1 diff_ids");
            assertNothingLeft();
        }
    }

    @Nested
    class Rejections {
        @Test
        void corruptBlobIsRejectedBeforeCommitNamingTheEntry() throws IOException {
            TestImage img = twoLayers(Compression.GZIP, Compression.GZIP);
            Path tar = tmp.resolve("oci.tar");
            OciLayout.builder().image("x:1", img).writeTar(tar);
            TestLayer layer = img.layers().get(0);
            flip(tar, layer.blob());
            assertThatThrownBy(() -> f.service.importArchive(tar))
                    .isInstanceOfSatisfying(BlobMismatchException.class,
                            e -> assertThat(e.blob()).isEqualTo(layer.digest()))
                    .hasMessageContaining("blobs/sha256/" + layer.digest().hex());
            assertNothingLeft();
            assertThatThrownBy(() -> f.store.info(layer.digest())).isInstanceOf(NotFoundException.class);
        }

        @Test
        void wrongSizeInADescriptorIsRejected() {
            TestImage img = twoLayers(Compression.GZIP, Compression.GZIP);
            Descriptor wrong = Fixture.withSize(img.descriptor(), img.descriptor().size() - 1)
                    .withPlatform(Platform.host());
            TestIndex index = IndexBuilder.create().reference(wrong).build();
            Path tar = tmp.resolve("oci.tar");
            OciLayout.builder().image("x:1", index).entry(img, Map.of()).writeTar(tar);
            assertThatThrownBy(() -> f.service.importArchive(tar))
                    .isInstanceOfSatisfying(BlobMismatchException.class, e -> {
                        assertThat(e.kind()).isEqualTo(BlobMismatchException.Kind.SIZE);
                        assertThat(e.blob()).isEqualTo(img.descriptor().digest());
                    });
            assertNothingLeft();
        }

        @Test
        void missingLayerIsNotFoundAndNothingIsNamed() {
            TestImage img = twoLayers(Compression.GZIP, Compression.GZIP);
            Path tar = tmp.resolve("oci.tar");
            OciLayout.builder().image("x:1", img).image("y:1", Busybox.image())
                    .omitBlob(img.layers().get(1).digest()).writeTar(tar);
            assertThatThrownBy(() -> f.service.importArchive(tar))
                    .isInstanceOf(NotFoundException.class)
                    .hasMessageContaining(img.layers().get(1).digest().toString())
                    .hasMessageContaining("layer 1");
            assertNothingLeft();
        }

        @Test
        void archiveThatIsNeitherLayoutNorDockerSaveIsRejected() throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            LayerBuilder.create().file("hello", "x").writeTar(out);
            assertThatThrownBy(() -> f.service.importArchive(new ByteArrayInputStream(out.toByteArray())))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("unrecognized");
        }
    }

    @Nested
    class Export {
        @Test
        void exportThenImportYieldsIdenticalDigests() throws IOException {
            TestIndex index = Busybox.multiPlatformIndex();
            f.add("docker.io/library/busybox:1", index);
            TestImage docker = TestImageBuilder.create().platform(Platform.host()).dockerMediaTypes()
                    .layer(LayerBuilder.create().file("d", "d").build()).build();
            f.add("example.com/d@sha256:" + "b".repeat(64), docker);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            f.service.export(out, ExportOptions.of("docker.io/library/busybox:1", "example.com/d@sha256:" + "b".repeat(64))
                    .allPlatforms());

            try (Fixture g = new Fixture(tmp.resolve("b"))) {
                List<Image> imported = g.service.importArchive(new ByteArrayInputStream(out.toByteArray()),
                        ImportOptions.defaults().allPlatforms());
                assertThat(imported).extracting(Image::name)
                        .containsExactly("docker.io/library/busybox:1", "example.com/d@sha256:" + "b".repeat(64));
                assertThat(imported.get(0).target()).isEqualTo(f.images.get("docker.io/library/busybox:1").target());
                assertThat(imported.get(1).target().digest()).isEqualTo(docker.descriptor().digest());
                for (var blob : index.blobs().keySet()) {
                    assertThat(g.store.info(blob).size()).isEqualTo(f.store.info(blob).size());
                }
                assertThat(g.service.resolve("docker.io/library/busybox:1", PlatformMatcher.only(
                        index.images().get(1).platform())).manifestDescriptor().digest())
                        .isEqualTo(index.images().get(1).descriptor().digest());
            }
        }

        @Test
        void exportWritesLayoutAndDockerManifestForTheRequestedPlatformOnly() throws IOException {
            TestIndex index = Busybox.multiPlatformIndex();
            TestImage host = index.images().get(0);
            TestImage foreign = index.images().get(1);
            f.add(BUSYBOX, index);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            f.service.export(out, BUSYBOX);

            Map<String, byte[]> files = untar(out.toByteArray());
            assertThat(files).containsKeys("oci-layout", "index.json", "manifest.json",
                    "blobs/sha256/" + index.descriptor().digest().hex(),
                    "blobs/sha256/" + host.descriptor().digest().hex(),
                    "blobs/sha256/" + host.layers().get(0).digest().hex());
            assertThat(files).doesNotContainKey("blobs/sha256/" + foreign.descriptor().digest().hex());
            JsonNode index0 = new ObjectMapper().readTree(files.get("index.json")).get("manifests").get(0);
            assertThat(index0.get("digest").asText()).isEqualTo(index.descriptor().digest().toString());
            assertThat(index0.get("annotations").get("io.containerd.image.name").asText()).isEqualTo(BUSYBOX);
            assertThat(index0.get("annotations").get("org.opencontainers.image.ref.name").asText()).isEqualTo("latest");
            JsonNode docker = new ObjectMapper().readTree(files.get("manifest.json")).get(0);
            assertThat(docker.get("RepoTags").get(0).asText()).isEqualTo("busybox:latest");
            assertThat(docker.get("Config").asText()).isEqualTo("blobs/sha256/" + host.config().digest().hex());
            assertThat(docker.get("Layers").get(0).asText()).isEqualTo("blobs/sha256/" + host.layers().get(0).digest().hex());

            try (Fixture g = new Fixture(tmp.resolve("b"))) {
                assertThat(g.service.importArchive(new ByteArrayInputStream(out.toByteArray())))
                        .extracting(Image::name).containsExactly(BUSYBOX);
                assertThat(g.service.resolve(BUSYBOX).manifestDescriptor().digest()).isEqualTo(host.descriptor().digest());
            }
        }

        @Test
        void exportOfACorruptBlobFails() {
            TestImage img = twoLayers(Compression.GZIP, Compression.GZIP);
            f.add("x:1", img);
            f.corrupt(img.layers().get(1).digest());
            assertThatThrownBy(() -> f.service.export(new ByteArrayOutputStream(), "x:1"))
                    .isInstanceOf(BlobMismatchException.class)
                    .hasMessageContaining(img.layers().get(1).digest().toString());
        }
    }

    static Map<String, byte[]> untar(byte[] tar) throws IOException {
        Map<String, byte[]> files = new HashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                if (e.isFile()) {
                    files.put(e.getName(), in.readAllBytes());
                }
            }
        }
        return files;
    }

    /** Flips one byte in the middle of the first occurrence of {@code needle} in {@code file}. */
    static void flip(Path file, byte[] needle) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int at = indexOf(bytes, needle);
        assertThat(at).as("content to corrupt is in the archive").isGreaterThanOrEqualTo(0);
        bytes[at + needle.length / 2] ^= 0x5a;
        Files.write(file, bytes);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Nested
    class MemoryBounds {
        /** The busybox OCI layout tar with {@code extra} entries of {@code size} filler bytes appended. */
        private Path layoutWith(long size, String... extra) throws IOException {
            Path base = tmp.resolve("base.tar");
            OciLayout.builder().image(BUSYBOX, Busybox.image()).writeTar(base);
            Path out = tmp.resolve("with-extra.tar");
            try (var in = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(Files.newInputStream(base));
                 var tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(Files.newOutputStream(out))) {
                tar.setBigNumberMode(org.apache.commons.compress.archivers.tar.TarArchiveOutputStream.BIGNUMBER_POSIX);
                org.apache.commons.compress.archivers.tar.TarArchiveEntry e;
                while ((e = in.getNextEntry()) != null) {
                    tar.putArchiveEntry(e);
                    in.transferTo(tar);
                    tar.closeArchiveEntry();
                }
                byte[] chunk = new byte[1 << 16];
                java.util.Arrays.fill(chunk, (byte) ' ');
                for (String name : extra) {
                    var entry = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(name);
                    entry.setSize(size);
                    tar.putArchiveEntry(entry);
                    for (long left = size; left > 0; left -= chunk.length) {
                        tar.write(chunk, 0, (int) Math.min(chunk.length, left));
                    }
                    tar.closeArchiveEntry();
                }
            }
            return out;
        }

        @Test
        void topLevelJsonOtherThanTheIndexDocumentsIsStreamedToContent() throws IOException {
            long size = 65L << 20; // above what was once held in memory
            Path tar = layoutWith(size, "big.json");

            assertThat(f.service.importArchive(tar)).extracting(Image::name).containsExactly(BUSYBOX);
            assertThat(f.store.list()).anySatisfy(info -> assertThat(info.size()).isEqualTo(size));
        }

        @Test
        void indexDocumentAboveItsLimitIsRefusedNamingTheLimit() throws IOException {
            Path tar = layoutWith((16L << 20) + 1, "repositories");

            assertThatThrownBy(() -> f.service.importArchive(tar))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("repositories").hasMessageContaining(String.valueOf(16L << 20));
        }

        @Test
        void repeatedIndexDocumentsAboveTheTotalLimitAreRefused() throws IOException {
            Path tar = layoutWith(12L << 20, "repositories", "repositories", "repositories");

            assertThatThrownBy(() -> f.service.importArchive(tar))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("index documents").hasMessageContaining(String.valueOf(32L << 20));
        }
    }
}
