package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Digest;
import dev.berth.api.Labels;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.Platform;
import dev.berth.api.image.Image;
import dev.berth.api.snapshot.Kind;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.snapshot.Snapshotters;
import dev.berth.testing.DockerArchive;
import dev.berth.testing.FileTree;
import dev.berth.testing.LabelledStore;
import dev.berth.testing.LayerBuilder;
import dev.berth.testing.OciLayout;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestImageBuilder;
import dev.berth.testing.TestLayer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Import with unpack: layers applied while the archive is stored, into the native snapshotter. */
class ImportUnpackTest {
    @TempDir
    Path tmp;
    Snapshotter sn;
    Fixture f;

    @BeforeEach
    void open() {
        sn = Snapshotters.nativeSnapshotter(tmp.resolve("snapshots"));
        f = new Fixture(tmp, sn, true);
    }

    @AfterEach
    void close() {
        System.clearProperty(ImageService.STREAM_UNPACK_PROPERTY);
        f.close();
        sn.close();
    }

    private LabelledStore reads() {
        return (LabelledStore) f.content;
    }

    private Set<String> snapshots() {
        Set<String> names = new HashSet<>();
        for (SnapshotInfo info : sn.list()) {
            assertThat(info.kind()).as(info.name()).isEqualTo(Kind.COMMITTED);
            names.add(info.name());
        }
        return names;
    }

    private static Set<String> names(List<Digest> chainIds) {
        Set<String> names = new HashSet<>();
        chainIds.forEach(c -> names.add(c.toString()));
        return names;
    }

    /**
     * An OCI layout tar in the order {@code ctr export}, {@code docker save} and Berth's exporter write an
     * image: config, layers bottom-up, manifest, index (the test kit's layouts sort blobs by digest).
     */
    private Path layoutInImageOrder(String name, TestImage img) throws IOException {
        LayerBuilder tar = LayerBuilder.create().file("oci-layout", OciLayout.ociLayoutFile())
                .dir("blobs").dir("blobs/sha256")
                .file(OciLayout.blobPath(img.config().digest()), img.configBytes());
        for (TestLayer layer : img.layers()) {
            tar.file(OciLayout.blobPath(layer.digest()), layer.blob());
        }
        tar.file(OciLayout.blobPath(img.descriptor().digest()), img.bytes())
                .file("index.json", OciLayout.builder().image(name, img).indexJson());
        Path out = tmp.resolve("ordered.tar");
        try (OutputStream o = Files.newOutputStream(out)) {
            tar.writeTar(o);
        }
        return out;
    }

    private void assertUnpacked(TestImage img, String name) {
        assertThat(snapshots()).isEqualTo(names(img.chainIds()));
        for (int i = 0; i < img.chainIds().size(); i++) {
            SnapshotInfo info = sn.stat(img.chainIds().get(i).toString());
            assertThat(info.parent()).isEqualTo(i == 0 ? null : img.chainIds().get(i - 1).toString());
            assertThat(info.labels()).containsEntry(Labels.SNAPSHOT_REF, img.chainIds().get(i).toString());
        }
        assertThat(reads().labels(img.config().digest()))
                .containsEntry("containerd.io/gc.ref.snapshot.native", img.chainIds().get(2).toString());
        UnpackResult again = f.service.unpack(name);
        assertThat(again.skipped()).isEqualTo(3);
        FileTree t = Fixture.tree(sn, again.topChainId(), tmp);
        assertThat(t.get("/etc/e")).isPresent();
        assertThat(t.get("/etc/a")).isEmpty();
        assertThat(t.get("/opt/d")).isPresent();
        assertThat(t.get("/big").orElseThrow().size()).isEqualTo(3 << 20);
    }

    @Nested
    class Streamed {
        @Test
        void ociLayoutLayersAreAppliedWhileStoredAndNeverReadBack() throws IOException {
            TestImage img = UnpackTest.threeLayers(Compression.GZIP, Compression.NONE, Compression.ZSTD);
            Path tar = layoutInImageOrder("example.com/x:1", img);

            List<Image> imported = f.service.importArchive(tar, ImportOptions.defaults().withUnpack());

            assertThat(imported).extracting(Image::name).containsExactly("example.com/x:1");
            for (int i = 0; i < 3; i++) {
                assertThat(reads().readsOf(img.layers().get(i).digest())).as("reads of layer " + i).isZero();
                assertThat(reads().labels(img.layers().get(i).digest()))
                        .containsEntry(Labels.UNCOMPRESSED, img.diffIds().get(i).toString());
            }
            assertUnpacked(img, "example.com/x:1");
        }

        @Test
        void dockerSaveLayersAreAppliedWhileStored() {
            TestImage img = UnpackTest.threeLayers(Compression.NONE, Compression.NONE, Compression.NONE);
            Path tar = tmp.resolve("docker.tar");
            DockerArchive.builder().image(img, "example.com/d:1").write(tar);

            f.service.importArchive(tar, ImportOptions.defaults().withUnpack("native"));

            for (int i = 0; i < 3; i++) {
                // the import's own 4-byte look at a docker layer's compression, no read-back for the unpack
                assertThat(reads().readsOf(img.layers().get(i).digest())).as("reads of layer " + i).isEqualTo(1);
            }
            assertUnpacked(img, "example.com/d:1");
        }

        @Test
        void layersStoredOutOfOrderAreStillUnpackedCorrectlyAndNothingElseStays() {
            TestImage img = UnpackTest.threeLayers(Compression.GZIP, Compression.NONE, Compression.ZSTD);
            Path tar = tmp.resolve("oci.tar");
            OciLayout.builder().image("example.com/x:1", img).writeTar(tar); // blobs sorted by digest

            f.service.importArchive(tar, ImportOptions.defaults().withUnpack());

            assertUnpacked(img, "example.com/x:1");
        }

        @Test
        void twoImagesOnDifferentBasesKeepExactlyTheirOwnLayers() {
            TestImage one = UnpackTest.threeLayers(Compression.GZIP, Compression.GZIP, Compression.GZIP);
            TestImage two = TestImageBuilder.create().platform(Platform.host())
                    .layer(LayerBuilder.create().file("two", "2").build(Compression.GZIP))
                    .layer(LayerBuilder.create().file("three", "3").build(Compression.GZIP))
                    .build();
            Path tar = tmp.resolve("oci.tar");
            OciLayout.builder().image("example.com/one:1", one).image("example.com/two:1", two).writeTar(tar);

            f.service.importArchive(tar, ImportOptions.defaults().withUnpack());

            // whatever stack the speculation guessed, only the images' own chains stay
            Set<String> expected = names(one.chainIds());
            expected.addAll(names(two.chainIds()));
            assertThat(snapshots()).isEqualTo(expected);
            assertThat(Fixture.tree(sn, two.chainIds().get(1), tmp).get("/three")).isPresent();
            assertThat(Fixture.tree(sn, two.chainIds().get(1), tmp).get("/etc")).isEmpty();
        }

        @Test
        void aSecondImportOfTheSameArchiveFindsEverythingInPlace() throws IOException {
            TestImage img = UnpackTest.threeLayers(Compression.GZIP, Compression.GZIP, Compression.GZIP);
            Path tar = layoutInImageOrder("example.com/x:1", img);
            f.service.importArchive(tar, ImportOptions.defaults().withUnpack());

            f.service.importArchive(tar, ImportOptions.defaults().withUnpack());

            assertUnpacked(img, "example.com/x:1");
        }
    }

    @Nested
    class Failures {
        @Test
        void aCorruptLayerBlobFailsTheImportAndLeavesNoSnapshotAndNoImage() throws IOException {
            TestImage img = UnpackTest.threeLayers(Compression.GZIP, Compression.GZIP, Compression.GZIP);
            Path tar = layoutInImageOrder("example.com/x:1", img);
            ImportExportTest.flip(tar, img.layers().get(1).blob());

            assertThatThrownBy(() -> f.service.importArchive(tar, ImportOptions.defaults().withUnpack()))
                    .isInstanceOfSatisfying(BlobMismatchException.class,
                            e -> assertThat(e.blob()).isEqualTo(img.layers().get(1).digest()));

            assertThat(sn.list()).isEmpty();
            assertThat(f.images.list()).isEmpty();
            assertThat(f.store.listStatuses()).isEmpty();
        }

        @Test
        void aLayerWhoseDiffIdDiffersFromTheConfigFailsTheUnpackAndKeepsOnlyTheLayersBelow() throws IOException {
            TestImage good = UnpackTest.threeLayers(Compression.GZIP, Compression.GZIP, Compression.GZIP);
            Digest wrong = Digest.sha256("not layer 1".getBytes(StandardCharsets.UTF_8));
            String config = new String(good.configBytes(), StandardCharsets.UTF_8)
                    .replace(good.diffIds().get(1).toString(), wrong.toString());
            TestImage bad = TestImageBuilder.create().platform(Platform.host()).layer(good.layers().get(0))
                    .layer(good.layers().get(1)).layer(good.layers().get(2))
                    .rawConfig(config.getBytes(StandardCharsets.UTF_8)).build();
            Path tar = layoutInImageOrder("example.com/bad:1", bad);

            assertThatThrownBy(() -> f.service.importArchive(tar, ImportOptions.defaults().withUnpack()))
                    .isInstanceOf(DiffIdMismatchException.class)
                    .hasMessageContaining(wrong.toString());

            // layer 0 is a correct snapshot, as the ordinary unpack leaves it; the stack speculation built
            // on it with the real layers 1 and 2 is no image's and was removed
            assertThat(snapshots()).containsExactly(good.chainIds().get(0).toString());
        }

        @Test
        void aCorruptButWellNamedTarLayerIsReportedByTheUnpackAsWithoutStreaming() throws IOException {
            TestImage img = UnpackTest.threeLayers(Compression.NONE, Compression.NONE, Compression.NONE);
            Path tar = tmp.resolve("docker.tar");
            DockerArchive.builder().image(img, "bad:1").write(tar);
            ImportExportTest.flip(tar, img.layers().get(1).tar());

            assertThatThrownBy(() -> f.service.importArchive(tar, ImportOptions.defaults().withUnpack()))
                    .isInstanceOf(BlobMismatchException.class)
                    .hasMessageContaining(img.diffIds().get(1).toString());

            assertThat(sn.list()).isEmpty();
            assertThat(f.images.list()).isEmpty();
        }
    }

    @Test
    void withStreamingSwitchedOffTheSameImportReadsTheLayersBackAndGivesTheSameSnapshots() throws IOException {
        System.setProperty(ImageService.STREAM_UNPACK_PROPERTY, "false");
        TestImage img = UnpackTest.threeLayers(Compression.GZIP, Compression.NONE, Compression.ZSTD);
        Path tar = layoutInImageOrder("example.com/x:1", img);

        f.service.importArchive(tar, ImportOptions.defaults().withUnpack());

        for (int i = 0; i < 3; i++) {
            assertThat(reads().readsOf(img.layers().get(i).digest())).as("reads of layer " + i).isPositive();
        }
        assertUnpacked(img, "example.com/x:1");
    }
}
