package dev.berth.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.snapshot.Snapshotter;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;

/** containerd's snapshotter suite on the overlayfs snapshotter. */
class OverlaySnapshotterConformanceIT extends SnapshotterConformance {
    @Override
    Snapshotter open(Path root) {
        return Snapshotters.overlay(root);
    }

    @Override
    long childLayerInodes() {
        return 4;
    }

    @Override
    boolean childLayersHoldOnlyTheirChanges() {
        return true;
    }

    /**
     * Like containerd, Berth mounts without {@code redirect_dir}, so rename(2) of a directory from a lower
     * layer fails with EXDEV and tools fall back to copying (as mv(1) does); files rename in place.
     */
    @Test
    void renamingALowerDirectoryIsExdevButALowerFileRenames() throws Exception {
        withMounted(sn.prepare("p", null), dir -> {
            Files.createDirectory(dir.resolve("d"));
            Files.writeString(dir.resolve("f"), "f");
        });
        sn.commit("c", "p");
        withMounted(sn.prepare("child", "c"), dir -> {
            assertThatThrownBy(() -> Files.move(dir.resolve("d"), dir.resolve("d2"), StandardCopyOption.ATOMIC_MOVE))
                    .isInstanceOf(AtomicMoveNotSupportedException.class);
            Files.move(dir.resolve("f"), dir.resolve("f2"), StandardCopyOption.ATOMIC_MOVE);
            assertThat(dir.resolve("f2")).hasContent("f");
            assertThat(dir.resolve("f")).doesNotExist();
        });
    }
}
