package dev.berth.snapshot.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.berth.api.Mount;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.snapshot.Snapshotters;
import dev.berth.snapshot.archive.TreeSnapshot.Node;
import dev.berth.snapshot.mount.Mounted;
import dev.berth.snapshot.mount.Mounts;

/**
 * Hostile layers unpacked the way an image unpacker does it — prepare, apply into the returned mounts,
 * commit, or remove on failure — on real overlay and native snapshotters, checked through real mounts.
 */
class HostileLayerSnapshotterIT {
    enum Kind { OVERLAY, NATIVE }

    @TempDir
    Path tmp;
    private Path root;
    private Path canary;
    private TreeMap<String, Node> canaryBefore;
    private Snapshotter snapshotter;
    private int mountPoints;

    @BeforeEach
    void createCanary() throws IOException {
        canary = Files.createDirectories(tmp.resolve("canary"));
        Files.writeString(canary.resolve("secret"), "canary");
        Files.createDirectories(canary.resolve("dir"));
        canaryBefore = TreeSnapshot.of(canary);
        root = tmp.resolve("root");
    }

    @AfterEach
    void closeAndCheck() {
        if (snapshotter != null) {
            snapshotter.close();
        }
        assertThat(Mounts.mountPointsUnder(tmp)).as("mounts left behind").isEmpty();
        assertThat(TreeSnapshot.of(canary)).as("canary beside the snapshotter root").isEqualTo(canaryBefore);
    }

    private Snapshotter open(Kind kind) {
        snapshotter = kind == Kind.OVERLAY ? Snapshotters.overlay(root) : Snapshotters.nativeSnapshotter(root);
        return snapshotter;
    }

    /** prepare + apply + commit; on failure the active snapshot is removed and the failure rethrown. */
    private void unpack(String name, String parent, byte[] layer) throws IOException {
        String key = "extract " + name;
        List<Mount> mounts = snapshotter.prepare(key, parent);
        try {
            LayerApplier.builder().deviceNodes(LayerApplier.DeviceNodes.CREATE).build()
                    .apply(new ByteArrayInputStream(layer), mounts);
        } catch (IOException | RuntimeException e) {
            snapshotter.remove(key);
            throw e;
        }
        snapshotter.commit(name, key);
    }

    private TreeMap<String, Node> view(String parent) {
        String key = "view " + (++mountPoints);
        List<Mount> mounts = snapshotter.view(key, parent);
        try (Mounted m = Mounts.mountAll(mounts, newMountPoint())) {
            return TreeSnapshot.withoutDirectoryMtimes(TreeSnapshot.of(m.target()));
        } finally {
            snapshotter.remove(key);
        }
    }

    private Path newMountPoint() {
        try {
            return Files.createDirectories(tmp.resolve("mnt" + (++mountPoints)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private List<String> snapshotDirectories() throws IOException {
        try (Stream<Path> s = Files.list(root.resolve("snapshots"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static TestTar base() {
        return TestTar.create().dir("a").file("a/x", "x").file("a/y", "y").dir("b").file("b/z", "z").file("c", "c")
                .dir("etc").file("etc/hostname", "h").file("etc/passwd", "p").symlink("up", "../canary");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void failedAppliesLeaveNoSnapshotBehindAndTheParentIntact(Kind kind) throws IOException {
        open(kind);
        unpack("L0", null, base().bytes());
        TreeMap<String, Node> parentView = view("L0");
        List<String> dirsBefore = snapshotDirectories();
        byte[] truncatedGzip = TestTar.gzip(TestTar.create().file("etc/new", new byte[300_000], null)
                .whiteout("a").bytes());
        List<byte[]> hostile = List.of(
                Arrays.copyOf(truncatedGzip, truncatedGzip.length / 2),
                TestTar.create().whiteout("etc/hostname").file("up/secret", "evil").hardlink("h", "up/dir")
                        .bytes(),
                TestTar.create().file("c", "changed").file("a/.wh...", "").bytes(),
                TestTar.create().whiteout("b").symlink("s", "x", a -> a.pax("size", "512")).bytes(),
                "this is not a tar at all".getBytes());
        for (int i = 0; i < hostile.size(); i++) {
            byte[] layer = hostile.get(i);
            assertThatThrownBy(() -> unpack("bad", "L0", layer)).as("layer %d", i)
                    .isInstanceOf(InvalidLayerException.class);
            assertThat(snapshotter.list()).extracting(SnapshotInfo::name).containsExactly("L0");
            assertThat(snapshotDirectories()).isEqualTo(dirsBefore);
        }
        assertThat(view("L0")).isEqualTo(parentView);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void overlayXattrsInALayerDoNotChangeTheMountedView(Kind kind) throws IOException {
        open(kind);
        unpack("L0", null, base().bytes());
        unpack("L1", "L0", TestTar.create()
                .dir("a", x -> x.xattr("trusted.overlay.opaque", "y").xattr("user.overlay.opaque", "y"))
                .dir("b", x -> x.xattr("trusted.overlay.redirect", "/a").xattr("trusted.overlay.origin", "o"))
                .file("c", "c2", x -> x.xattr("trusted.overlay.metacopy", new byte[0]))
                .file("a/new", "n", x -> x.xattr("trusted.overlay.whiteout", "y").xattr("user.kept", "k"))
                .dir("fresh", x -> x.xattr("trusted.overlay.opaque", "y")).bytes());
        // a third layer over it, so the second one is a real lowerdir with everything it could smuggle
        unpack("L2", "L1", TestTar.create().file("top", "t").bytes());
        TreeMap<String, Node> v = view("L2");
        assertThat(v.keySet()).containsExactlyInAnyOrder("", "a", "a/x", "a/y", "a/new", "b", "b/z", "c", "etc",
                "etc/hostname", "etc/passwd", "up", "fresh", "top");
        assertThat(v.get("c").sha256()).isEqualTo(TreeSnapshot.sha256("c2".getBytes()));
        assertThat(v.get("a/new").xattrs()).containsOnlyKeys("user.kept");
        assertThat(v.values()).allSatisfy(n -> assertThat(n.xattrs().keySet())
                .noneMatch(k -> k.startsWith("trusted.overlay.") || k.startsWith("user.overlay.")));
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void whiteoutsSurviveCommitInLayersAndInContainerChanges(Kind kind) throws Exception {
        open(kind);
        unpack("L0", null, base().bytes());
        unpack("L1", "L0", TestTar.create().whiteout("etc/hostname").opaque("a").file("a/new", "n")
                .device("c", '3', 0, 0, null).file("b/.wh..wh..opq", "").bytes());
        assertThat(view("L1").keySet()).containsExactlyInAnyOrder("", "a", "a/new", "b", "etc", "etc/passwd", "up");
        // a container's changes: deletions in an overlay upper become whiteouts (char 0/0) and must still
        // hide the lower files once committed and used as a parent
        List<Mount> mounts = snapshotter.prepare("ctr", "L1");
        try (Mounted m = Mounts.mountAll(mounts, newMountPoint())) {
            Files.delete(m.target().resolve("etc/passwd"));
            Files.delete(m.target().resolve("a/new"));
            Files.delete(m.target().resolve("a"));
            Files.writeString(m.target().resolve("b/added"), "added");
        }
        snapshotter.commit("L2", "ctr");
        assertThat(view("L2").keySet()).containsExactlyInAnyOrder("", "b", "b/added", "etc", "up");
        unpack("L3", "L2", TestTar.create().dir("a").file("a/again", "again").bytes());
        assertThat(view("L3").keySet()).containsExactlyInAnyOrder("", "a", "a/again", "b", "b/added", "etc", "up");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void viewsOfUnpackedLayersAreReadOnly(Kind kind) throws IOException {
        open(kind);
        unpack("L0", null, base().bytes());
        unpack("L1", "L0", TestTar.create().file("f", "f").bytes());
        for (String parent : List.of("L0", "L1")) {
            List<Mount> mounts = snapshotter.view("ro " + parent, parent);
            try (Mounted m = Mounts.mountAll(mounts, newMountPoint())) {
                Path t = m.target();
                assertThatThrownBy(() -> Files.writeString(t.resolve("a/x"), "overwrite"))
                        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
                assertThatThrownBy(() -> Files.createDirectory(t.resolve("newdir")))
                        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
                assertThatThrownBy(() -> Files.delete(t.resolve("c")))
                        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
                assertThat(t.resolve("a/x")).hasContent("x");
            }
            snapshotter.remove("ro " + parent);
        }
        assertThat(view("L1")).containsKeys("f", "a/x");
    }
}
