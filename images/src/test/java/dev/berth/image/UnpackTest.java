package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Descriptor;
import dev.berth.api.Labels;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.NotFoundException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.Platform;
import dev.berth.api.image.Image;
import dev.berth.api.oci.image.Manifest;
import dev.berth.api.oci.image.OciJson;
import dev.berth.api.snapshot.Kind;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.snapshot.Snapshotters;
import dev.berth.testing.Busybox;
import dev.berth.testing.DockerArchive;
import dev.berth.testing.FileTree;
import dev.berth.testing.LabelledStore;
import dev.berth.testing.LayerBuilder;
import dev.berth.testing.OciLayout;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestImageBuilder;
import dev.berth.testing.TestLayer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unpacking into the native snapshotter (no mounts needed: the applier writes into the snapshot dirs). */
class UnpackTest {
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
        f.close();
        sn.close();
    }

    static TestImage threeLayers(Compression c0, Compression c1, Compression c2) {
        byte[] big = new byte[3 << 20];
        new java.util.Random(7).nextBytes(big);
        return TestImageBuilder.create().platform(Platform.host())
                .layer(LayerBuilder.create().dir("etc").file("etc/a", "a").file("etc/b", "b").file("big", big)
                        .symlink("etc/link", "a").build(c0))
                .layer(LayerBuilder.create().file("etc/c", "c").whiteout("etc/a").build(c1))
                .layer(LayerBuilder.create().dir("opt", 0700).file("opt/d", "d").opaque("etc").file("etc/e", "e")
                        .build(c2))
                .build();
    }

    private FileTree tree(UnpackResult r) {
        return Fixture.tree(sn, r.topChainId(), tmp);
    }

    @Test
    void unpackCommitsOneSnapshotPerChainIdAndLabelsLikeContainerd() {
        TestImage img = threeLayers(Compression.GZIP, Compression.GZIP, Compression.GZIP);
        f.add("x:1", img);

        UnpackResult r = f.service.unpack("x:1");

        assertThat(r.snapshotter()).isEqualTo("native");
        assertThat(r.chainIds()).isEqualTo(img.chainIds());
        assertThat(r.applied()).isEqualTo(3);
        for (int i = 0; i < 3; i++) {
            var info = sn.stat(img.chainIds().get(i).toString());
            assertThat(info.kind()).isEqualTo(Kind.COMMITTED);
            assertThat(info.parent()).isEqualTo(i == 0 ? null : img.chainIds().get(i - 1).toString());
            assertThat(info.labels()).containsEntry(Labels.SNAPSHOT_REF, img.chainIds().get(i).toString());
            LabelledStore labels = (LabelledStore) f.content;
            assertThat(labels.labels(img.layers().get(i).digest()))
                    .containsEntry("containerd.io/uncompressed", img.diffIds().get(i).toString());
        }
        assertThat(((LabelledStore) f.content).labels(img.config().digest()))
                .containsEntry("containerd.io/gc.ref.snapshot.native", r.topChainId().toString());
        assertThat(Fixture.uncommitted(sn)).isEmpty();

        FileTree t = tree(r);
        assertThat(t.get("/etc/e")).isPresent();
        assertThat(t.get("/etc/a")).isEmpty();
        assertThat(t.get("/etc/c")).isEmpty(); // hidden by the opaque directory of layer 2
        assertThat(t.get("/opt").orElseThrow().mode()).isEqualTo(0700);
        assertThat(t.get("/big").orElseThrow().size()).isEqualTo(3 << 20);
    }

    @Test
    void decompressionBombIsRefusedByDefaultNamingTheLayerAndTheLimit() {
        TestImage bomb = TestImageBuilder.create().platform(Platform.host())
                .layer(LayerBuilder.create().file("zeros", new byte[80 << 20]).build(Compression.ZSTD))
                .build();
        assertThat(bomb.layers().get(0).size()).isLessThan(80 << 10); // > 1000:1
        f.add("bomb:1", bomb);

        assertThatThrownBy(() -> f.service.unpack("bomb:1"))
                .isInstanceOf(dev.berth.snapshot.archive.LayerLimitExceededException.class)
                .hasMessageContaining(bomb.layers().get(0).digest().toString())
                .hasMessageContaining("compression ratio limit of 1000");
        assertThat(Fixture.uncommitted(sn)).isEmpty();
    }

    @Test
    void secondUnpackSkipsEverything() {
        f.add("x:1", threeLayers(Compression.GZIP, Compression.NONE, Compression.ZSTD));
        f.service.unpack("x:1");
        UnpackResult again = f.service.unpack("x:1");
        assertThat(again.applied()).isZero();
        assertThat(again.skipped()).isEqualTo(3);
    }

    @Test
    void gzipZstdUncompressedAndMixedLayersGiveTheSameTree() {
        List<FileTree> trees = new ArrayList<>();
        for (Compression[] c : new Compression[][] {
                {Compression.GZIP, Compression.GZIP, Compression.GZIP},
                {Compression.ZSTD, Compression.ZSTD, Compression.ZSTD},
                {Compression.NONE, Compression.NONE, Compression.NONE},
                {Compression.ZSTD, Compression.NONE, Compression.GZIP}}) {
            TestImage img = threeLayers(c[0], c[1], c[2]);
            String name = "x:" + c[0] + c[1] + c[2];
            f.add(name.toLowerCase(), img);
            trees.add(tree(f.service.unpack(name.toLowerCase())));
        }
        for (FileTree t : trees.subList(1, trees.size())) {
            assertThat(trees.get(0).diffReport(t)).isEmpty();
        }
    }

    @Test
    void dockerArchiveAndOciArchiveOfTheSameImageUnpackToIdenticalTrees() {
        TestImage img = Busybox.imageBuilder(Busybox.layer(Compression.GZIP))
                .layer(LayerBuilder.create().file("etc/motd", "hi").whiteout("bin/vi").build())
                .build();
        Path docker = tmp.resolve("docker.tar");
        DockerArchive.builder().image(img, "bb:docker").write(docker);
        Path oci = tmp.resolve("oci.tar");
        OciLayout.builder().image("bb:oci", img).writeTar(oci);
        f.service.importArchive(docker);
        f.service.importArchive(oci);

        UnpackResult fromDocker = f.service.unpack("bb:docker");
        UnpackResult fromOci = f.service.unpack("bb:oci");

        // same diffIDs, so the second unpack reuses the snapshots of the first
        assertThat(fromOci.chainIds()).isEqualTo(fromDocker.chainIds());
        assertThat(fromOci.applied()).isZero();
        // and unpacked independently into a second snapshotter they give the same tree
        Snapshotter other = Snapshotters.nativeSnapshotter(tmp.resolve("other"));
        try {
            UnpackResult separate = f.service.unpack(f.service.resolve("bb:oci"), other);
            assertThat(separate.applied()).isEqualTo(2);
            // layer 1 changes /bin and /etc without entries for them, so their mtimes are the unpack time
            assertThat(Fixture.tree(other, separate.topChainId(), tmp).diffReport(tree(fromDocker),
                    FileTree.Attribute.DIRECTORY_MTIME)).isEmpty();
        } finally {
            other.close();
        }
        assertThat(tree(fromDocker).get("/bin/vi")).isEmpty();
        assertThat(tree(fromDocker).get("/bin/busybox")).isPresent();
    }

    @Test
    void wrongDiffIdFailsAndRemovesTheExtractionSnapshot() {
        TestImage good = threeLayers(Compression.GZIP, Compression.GZIP, Compression.GZIP);
        TestLayer other = LayerBuilder.create().file("x", "x").build();
        // layer 1 swapped for another blob: the config's diff_id no longer matches
        TestImage bad = TestImageBuilder.create().platform(Platform.host()).layer(good.layers().get(0)).layer(other)
                .layer(good.layers().get(2))
                .rawConfig(good.configBytes()).build();
        f.add("bad:1", bad);
        assertThatThrownBy(() -> f.service.unpack("bad:1"))
                .isInstanceOfSatisfying(DiffIdMismatchException.class, e -> {
                    assertThat(e.expected()).isEqualTo(good.diffIds().get(1));
                    assertThat(e.actual()).isEqualTo(other.diffId());
                })
                .hasMessageContaining("wrong diff id");
        assertThat(Fixture.uncommitted(sn)).isEmpty();
        assertThat(sn.list()).extracting(i -> i.name()).containsExactly(good.chainIds().get(0).toString());
    }

    @Test
    void corruptLayerBlobIsRejectedAndLeavesNoSnapshot() {
        TestImage img = threeLayers(Compression.GZIP, Compression.NONE, Compression.GZIP);
        f.add("x:1", img);
        f.corrupt(img.layers().get(0).digest());
        assertThatThrownBy(() -> f.service.unpack("x:1"))
                .isInstanceOfSatisfying(BlobMismatchException.class,
                        e -> assertThat(e.blob()).isEqualTo(img.layers().get(0).digest()))
                .hasMessageContaining("layer 0 of x:1");
        assertThat(sn.list()).isEmpty();
    }

    @Test
    void corruptUncompressedLayerIsRejectedAsABlobMismatch() {
        TestImage img = threeLayers(Compression.NONE, Compression.NONE, Compression.NONE);
        f.add("x:1", img);
        f.corrupt(img.layers().get(2).digest());
        assertThatThrownBy(() -> f.service.unpack("x:1")).isInstanceOf(BlobMismatchException.class);
        assertThat(Fixture.uncommitted(sn)).isEmpty();
        assertThat(sn.list()).hasSize(2);
    }

    @Test
    void uncompressedLayerWithACorruptTarHeaderIsRejectedAsABlobMismatch() {
        TestImage img = threeLayers(Compression.NONE, Compression.NONE, Compression.NONE);
        f.add("x:1", img);
        f.corrupt(img.layers().get(1).digest(), 0);
        assertThatThrownBy(() -> f.service.unpack("x:1"))
                .isInstanceOfSatisfying(BlobMismatchException.class,
                        e -> assertThat(e.blob()).isEqualTo(img.layers().get(1).digest()))
                .hasMessageContaining("layer 1 of x:1");
        assertThat(Fixture.uncommitted(sn)).isEmpty();
        assertThat(sn.list()).hasSize(1);
    }

    @Test
    void missingLayerBlobIsNotFoundAndLeavesNoSnapshot() {
        TestImage img = threeLayers(Compression.GZIP, Compression.GZIP, Compression.GZIP);
        f.add("x:1", img);
        f.remove(img.layers().get(0).digest());
        assertThatThrownBy(() -> f.service.unpack("x:1"))
                .isInstanceOf(NotFoundException.class)
                .hasMessageContaining(img.layers().get(0).digest().toString());
        assertThat(sn.list()).isEmpty();
    }

    @Test
    void unknownLayerMediaTypeIsNotImplementedBeforeAnythingIsPrepared() {
        TestImage img = threeLayers(Compression.GZIP, Compression.GZIP, Compression.GZIP);
        f.put(img);
        Manifest m = OciJson.parseManifest(img.bytes());
        List<Descriptor> layers = new ArrayList<>(m.layers());
        layers.set(2, layers.get(2).withMediaType("application/vnd.oci.image.layer.v1.tar+encrypted"));
        byte[] bytes = OciJson.write(m.withLayers(layers));
        Descriptor desc = Descriptor.of(dev.berth.api.MediaTypes.OCI_MANIFEST, bytes);
        dev.berth.content.Content.writeBlob(f.store, "m", desc.mediaType(), bytes);
        f.images.create(new Image("enc:1", desc));
        assertThatThrownBy(() -> f.service.unpack("enc:1"))
                .isInstanceOf(NotImplementedException.class)
                .hasMessageContaining("+encrypted")
                .hasMessageContaining("layer 2");
        assertThat(sn.list()).isEmpty();
    }

    @Test
    void twoThreadsUnpackingTheSameImageDoTheWorkOnce() throws Exception {
        TestImage img = threeLayers(Compression.GZIP, Compression.ZSTD, Compression.NONE);
        f.add("x:1", img);
        ResolvedImage resolved = f.service.resolve("x:1");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<UnpackResult>> results = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return f.service.unpack(resolved, sn);
                }));
            }
            start.countDown();
            UnpackResult a = results.get(0).get();
            UnpackResult b = results.get(1).get();
            assertThat(a.applied() + b.applied()).isEqualTo(3);
            assertThat(a.skipped() + b.skipped()).isEqualTo(3);
            assertThat(a.chainIds()).isEqualTo(b.chainIds());
        } finally {
            pool.shutdownNow();
        }
        assertThat(sn.list()).hasSize(3);
    }
}
