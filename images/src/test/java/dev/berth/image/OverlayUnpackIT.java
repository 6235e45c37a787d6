package dev.berth.image;

import dev.berth.testing.LabelledStore;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.snapshot.Snapshotters;
import dev.berth.snapshot.mount.Mounts;
import dev.berth.testing.Busybox;
import dev.berth.testing.DockerArchive;
import dev.berth.testing.FileTree;
import dev.berth.testing.LayerBuilder;
import dev.berth.testing.OciLayout;
import dev.berth.testing.TestImage;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unpacking into the overlayfs snapshotter; the results are mounted and compared file by file. */
class OverlayUnpackIT {
    @TempDir
    Path tmp;
    Snapshotter overlay;
    Snapshotter nativeSn;
    Fixture f;

    @BeforeEach
    void open() {
        var support = Snapshotters.probeOverlay(tmp);
        assertThat(support.supported()).as("overlay works here: %s", support.reason()).isTrue();
        overlay = Snapshotters.overlay(tmp.resolve("overlayfs"));
        nativeSn = Snapshotters.nativeSnapshotter(tmp.resolve("native"));
        f = new Fixture(tmp, overlay, true);
    }

    @AfterEach
    void close() {
        f.close();
        overlay.close();
        nativeSn.close();
        assertThat(Mounts.mountPointsUnder(tmp)).isEmpty();
    }

    static TestImage image() {
        return Busybox.imageBuilder(Busybox.layer(Compression.GZIP))
                .layer(LayerBuilder.create().file("etc/motd", "hello").whiteout("bin/vi").opaque("tmp")
                        .file("tmp/fresh", "f").build(Compression.ZSTD))
                .layer(LayerBuilder.create().file("bin/vi", "not vi any more").build(Compression.NONE))
                .build();
    }

    @Test
    void dockerAndOciArchivesUnpackToTheSameTreeAsTheNativeSnapshotter() {
        TestImage img = image();
        Path docker = tmp.resolve("docker.tar");
        DockerArchive.builder().image(img, "bb:docker").symlinkDuplicateLayers().write(docker);
        Path oci = tmp.resolve("oci.tar");
        OciLayout.builder().image("bb:oci", img).writeTar(oci);
        f.service.importArchive(docker);
        f.service.importArchive(oci);

        UnpackResult viaDocker = f.service.unpack("bb:docker");
        assertThat(viaDocker.applied()).isEqualTo(3);
        FileTree dockerTree = Fixture.tree(overlay, viaDocker.topChainId(), tmp);

        Snapshotter second = Snapshotters.overlay(tmp.resolve("overlayfs2"));
        try {
            UnpackResult viaOci = f.service.unpack(f.service.resolve("bb:oci"), second);
            assertThat(viaOci.chainIds()).isEqualTo(viaDocker.chainIds());
            FileTree ociTree = Fixture.tree(second, viaOci.topChainId(), tmp);
            assertThat(ociTree.diffReport(dockerTree, FileTree.Attribute.DIRECTORY_MTIME)).isEmpty();
        } finally {
            second.close();
        }
        UnpackResult copied = f.service.unpack(f.service.resolve("bb:oci"), nativeSn);
        FileTree nativeTree = Fixture.tree(nativeSn, copied.topChainId(), tmp);
        assertThat(nativeTree.diffReport(dockerTree, FileTree.Attribute.DIRECTORY_MTIME)).isEmpty();

        assertThat(dockerTree.get("/bin/vi").orElseThrow().size()).isEqualTo("not vi any more".length());
        assertThat(dockerTree.get("/etc/motd")).isPresent();
        assertThat(dockerTree.get("/tmp/fresh")).isPresent();
        assertThat(((LabelledStore) f.content).labels(f.service.resolve("bb:docker").manifest().config().digest()))
                .containsEntry("containerd.io/gc.ref.snapshot.overlayfs", viaDocker.topChainId().toString());
    }

    @Test
    void failedExtractionOnOverlayLeavesNoActiveSnapshot() {
        TestImage img = image();
        f.add("x:1", img);
        f.corrupt(img.layers().get(1).digest());
        assertThatThrownBy(() -> f.service.unpack("x:1")).isInstanceOf(BlobMismatchException.class);
        assertThat(Fixture.uncommitted(overlay)).isEmpty();
        assertThat(overlay.list()).hasSize(1);
    }
}
