package dev.berth.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.Mount;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.snapshot.mount.Mounted;
import dev.berth.snapshot.mount.Mounts;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OverlaySnapshotterIT extends SnapshotterContract {

    @Override
    Snapshotter open(Path root, boolean syncRemove) {
        return Snapshotters.overlayBuilder(root).syncRemove(syncRemove).build();
    }

    @Test
    void overlayMountsCarryTheKernelDefaultOptions() throws Exception {
        layer("l1", null, Map.of());
        Mount m = snapshotter.prepare("a", "l1").get(0);

        assertThat(m.type()).isEqualTo("overlay");
        assertThat(m.options()).containsAll(Snapshotters.defaultOverlayOptions());
        assertThat(m.options().get(m.options().size() - 1)).startsWith("lowerdir=");
        assertThat(snapshotter.name()).isEqualTo("overlayfs");
    }

    @Test
    void aRemovedSnapshotAnOverlayStillUsesIsDeletedOnlyOnceUnmounted() throws Exception {
        layer("l1", null, Map.of("f", "1"));
        List<Mount> mounts = snapshotter.prepare("busy", "l1");
        Path upper = layerDir(mounts);
        try (dev.berth.snapshot.mount.Mounted m = dev.berth.snapshot.mount.Mounts.mountAll(mounts, newMountPoint())) {
            Files.writeString(m.target().resolve("written"), "w");

            snapshotter.remove("busy");
            snapshotter.cleanup();

            assertThat(upper.resolve("written")).hasContent("w");
            assertThat(m.target().resolve("written")).hasContent("w");
            assertThat(m.target().resolve("f")).hasContent("1");
        }
        snapshotter.cleanup();

        assertThat(upper).doesNotExist();
    }

    @Test
    void deletingALowerFileLeavesAWhiteoutThatHidesItInChildren() throws Exception {
        layer("l1", null, Map.of("gone", "x", "dir/a", "1", "dir/b", "2", "kept", "k"));
        List<Mount> mounts = snapshotter.prepare("del", "l1");
        withMounted(mounts, dir -> {
            Files.delete(dir.resolve("gone"));
            Files.delete(dir.resolve("dir/a"));
        });
        Path upper = layerDir(mounts);
        assertThat(Files.getAttribute(upper.resolve("gone"), "unix:rdev", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0L);
        assertThat(isCharDevice(upper.resolve("gone"))).isTrue();
        snapshotter.commit("l2", "del");

        withMounted(snapshotter.view("v", "l2"), dir -> {
            assertThat(listTree(dir)).containsExactly("dir", "dir/b", "kept");
        });
    }

    @Test
    void anOpaqueDirectoryHidesEverythingBelowIt() throws Exception {
        layer("l1", null, Map.of("dir/old1", "1", "dir/old2", "2", "other", "o"));
        List<Mount> mounts = snapshotter.prepare("opq", "l1");
        Path upper = layerDir(mounts);
        Files.createDirectory(upper.resolve("dir"));
        TestXattrs.set(upper.resolve("dir"), "trusted.overlay.opaque", "y");
        Files.writeString(upper.resolve("dir/new"), "n");
        snapshotter.commit("l2", "opq");

        withMounted(snapshotter.view("v", "l2"), dir -> {
            assertThat(listTree(dir)).containsExactly("dir", "dir/new", "other");
        });
    }

    @Test
    void aDeepChainOf120LayersMountsWithEveryLayerVisible() throws Exception {
        String parent = null;
        int longestOptions = 0;
        for (int i = 0; i < 120; i++) {
            String key = "k" + i;
            List<Mount> mounts = snapshotter.prepare(key, parent);
            longestOptions = Math.max(longestOptions, mounts.get(0).optionString().length());
            withMounted(mounts, dir -> Files.writeString(dir.resolve("file-" + key), key));
            snapshotter.commit("layer" + i, key);
            parent = "layer" + i;
        }

        List<Mount> top = snapshotter.prepare("top", parent);
        assertThat(top.get(0).optionString().length())
                .as("the option string exceeds what mount(2) accepts, so the deep-chain path is exercised")
                .isGreaterThan(4096);
        withMounted(top, dir -> {
            for (int i = 0; i < 120; i++) {
                assertThat(dir.resolve("file-k" + i)).hasContent("k" + i);
            }
            assertThat(listTree(dir)).hasSize(120);
            Files.writeString(dir.resolve("top-file"), "t");
        });
        assertThat(layerDir(top).resolve("top-file")).hasContent("t");
        withMounted(snapshotter.view("top-view", parent), dir -> assertThat(listTree(dir)).hasSize(120));
        assertThat(longestOptions).isGreaterThan(0);
    }

    @Test
    void newUpperDirsStartOwnedLikeTheirParentsLayer() throws Exception {
        List<Mount> base = snapshotter.prepare("base", null);
        Path baseFs = layerDir(base);
        Files.setAttribute(baseFs, "unix:uid", 100000);
        Files.setAttribute(baseFs, "unix:gid", 100001);
        snapshotter.commit("l1", "base");

        Path childFs = layerDir(snapshotter.prepare("child", "l1"));

        assertThat(Files.getAttribute(childFs, "unix:uid")).isEqualTo(100000);
        assertThat(Files.getAttribute(childFs, "unix:gid")).isEqualTo(100001);
        assertThat(Files.getAttribute(childFs.getParent().resolve("work"), "unix:mode")).isEqualTo(040711);
    }

    @Test
    void upperdirLabelNamesTheLayerDirectory() throws Exception {
        snapshotter.close();
        snapshotter = Snapshotters.overlayBuilder(root).upperdirLabel(true).build();
        List<Mount> mounts = snapshotter.prepare("a", null, Map.of("x", "1"));

        assertThat(snapshotter.stat("a").labels())
                .containsEntry(Snapshotters.UPPERDIR_LABEL, layerDir(mounts).toString())
                .containsEntry("x", "1");
        assertThat(snapshotter.list()).allSatisfy(i -> assertThat(i.labels()).containsKey(Snapshotters.UPPERDIR_LABEL));
    }

    @Test
    void probeFindsOverlayUsableHereButNotOnTopOfAnOverlay() throws Exception {
        OverlaySupport here = Snapshotters.probeOverlay(tmp.resolve("probe"));
        assertThat(here.supported()).as(here.reason()).isTrue();
        assertThat(listTree(tmp.resolve("probe"))).isEmpty();

        layer("l1", null, Map.of("f", "1"));
        layer("l2", "l1", Map.of("g", "2"));
        List<Mount> mounts = snapshotter.prepare("a", "l2");
        try (Mounted m = Mounts.mountAll(mounts, newMountPoint())) {
            OverlaySupport nested = Snapshotters.probeOverlay(m.target().resolve("probe"));
            assertThat(nested.supported()).isFalse();
            assertThat(nested.reason()).contains("EINVAL").contains("overlay");
        }
    }

    @Test
    void aRememberedProbeIsTrustedForThisBootAndKernelAndAFailureIsProbedAgain() throws Exception {
        Path dir = tmp.resolve("remembered");
        OverlaySupport first = Snapshotters.probeOverlayRemembered(dir);
        assertThat(first.supported()).as(first.reason()).isTrue();
        Path memo = dir.resolve(".overlay-probe");
        assertThat(Files.readString(memo)).contains("boot ").contains("kernel " + System.getProperty("os.version"));
        assertThat(listTree(dir)).containsExactly(".overlay-probe");

        assertThat(Snapshotters.probeOverlayRemembered(dir)).isEqualTo(first);

        // a memo of another boot is not trusted: probed (and remembered) again
        Files.writeString(memo, "boot another\nkernel 1.0\noptions \n");
        assertThat(Snapshotters.probeOverlayRemembered(dir).supported()).isTrue();
        assertThat(Files.readString(memo)).doesNotContain("boot another");

        layer("l1", null, Map.of("f", "1"));
        List<Mount> mounts = snapshotter.prepare("b", "l1");
        try (Mounted m = Mounts.mountAll(mounts, newMountPoint())) {
            Path nested = m.target().resolve("probe");
            assertThat(Snapshotters.probeOverlayRemembered(nested).supported()).isFalse();
            assertThat(nested.resolve(".overlay-probe")).as("a failure is not remembered").doesNotExist();
        }
    }

    @Test
    void aSuccessIsRememberedForTheFileSystemSoANewDirectoryOnItIsNotProbed() throws Exception {
        assertThat(Snapshotters.probeOverlayRemembered(tmp.resolve("first")).supported()).isTrue();
        Path second = Files.createDirectory(tmp.resolve("second"));
        // immutable: a test mount there cannot even make its scratch directory, so only the memo can say yes
        run("chattr", "+i", second.toString());
        try {
            assertThat(Snapshotters.probeOverlay(second).supported()).as("probing there fails").isFalse();
            OverlaySupport remembered = Snapshotters.probeOverlayRemembered(second);
            assertThat(remembered.supported()).as(remembered.reason()).isTrue();
        } finally {
            run("chattr", "-i", second.toString());
        }
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    }

    static boolean isCharDevice(Path p) throws Exception {
        int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return (mode & 0170000) == 0020000;
    }
}
