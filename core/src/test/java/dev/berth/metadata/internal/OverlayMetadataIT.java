package dev.berth.metadata.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.Labels;
import dev.berth.api.container.ContainerRecord;
import dev.berth.api.image.Image;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.snapshot.OverlaySupport;
import dev.berth.snapshot.Snapshotters;
import dev.berth.snapshot.mount.Mounted;
import dev.berth.snapshot.mount.Mounts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The namespaced snapshotter over the real overlayfs snapshotter, with its mounts performed. */
class OverlayMetadataIT {
    @TempDir
    Path root;

    @AfterEach
    void nothingLeftMounted() {
        assertThat(Mounts.mountPointsUnder(root)).isEmpty();
    }

    private static long dirsUnder(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void layersMountedThroughNamespacedKeysStayWhileReferencedAndAreReclaimedAfter() throws Exception {
        OverlaySupport support = Snapshotters.probeOverlay(root);
        // the machines Berth targets (and CI) mount overlayfs; a skip here would hide a broken probe
        assertThat(support.supported()).as(() -> "overlay unavailable: " + support.reason()).isTrue();
        Path overlayRoot = root.resolve("snapshots/overlayfs");
        Snapshotter overlay = Snapshotters.overlayBuilder(overlayRoot).syncRemove(false).build();
        try (Fixture f = Fixture.open(root, overlay)) {
            MetaSnapshotter sn = f.ns("default").snapshotter("overlayfs");
            Path mnt = Files.createDirectory(root.resolve("mnt"));
            try (Mounted m = Mounts.mountAll(sn.prepare("extract-1 L0", null), mnt)) {
                Files.writeString(mnt.resolve("base.txt"), "from L0");
            }
            sn.commit("L0", "extract-1 L0");
            try (Mounted m = Mounts.mountAll(sn.prepare("extract-2 L1", "L0"), mnt)) {
                Files.writeString(mnt.resolve("top.txt"), "from L1");
            }
            sn.commit("L1", "extract-2 L1");
            // the same key in another namespace is a different snapshot
            f.ns("other").snapshotter("overlayfs").prepare("L0-lookalike", null);

            f.ns("default").content();
            var config = Fixture.blob(f.ns("default").content(), "config");
            f.ns("default").content().update(new dev.berth.api.content.Info(config.digest(), 0, null, null,
                    Map.of(Labels.GC_REF_SNAPSHOT + "overlayfs", "L1")));
            f.ns("default").images().create(new Image("img", config));
            f.ns("default").containers().create(new ContainerRecord("ctr", Map.of(), "img",
                    new ContainerRecord.Runtime("io.containerd.runc.v2"), new byte[0], "overlayfs", "ctr-rootfs", null,
                    null, null));
            try (Mounted m = Mounts.mountAll(sn.prepare("ctr-rootfs", "L1"), mnt)) {
                assertThat(Files.readString(mnt.resolve("base.txt"))).isEqualTo("from L0");
                assertThat(Files.readString(mnt.resolve("top.txt"))).isEqualTo("from L1");
                Files.writeString(mnt.resolve("rw.txt"), "container");
            }
            f.md.gc();
            assertThat(sn.list()).hasSize(3);
            assertThat(dirsUnder(overlayRoot.resolve("snapshots"))).as("L0, L1, ctr-rootfs").isEqualTo(3);

            f.ns("default").containers().delete("ctr");
            f.md.gc();
            assertThat(sn.list()).extracting(i -> i.name()).containsExactlyInAnyOrder("L0", "L1");
            f.ns("default").images().delete("img", true);
            assertThat(sn.list()).isEmpty();
            assertThat(f.snapshotter.list()).isEmpty();
            assertThat(dirsUnder(overlayRoot.resolve("snapshots"))).as("directories reclaimed by cleanup").isZero();
        }
    }
}
