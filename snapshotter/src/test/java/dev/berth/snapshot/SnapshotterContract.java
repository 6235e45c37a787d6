package dev.berth.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Mount;
import dev.berth.api.NotFoundException;
import dev.berth.api.snapshot.Kind;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.api.snapshot.Usage;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * containerd's snapshotter semantics, run against every implementation: the lifecycle with real
 * mounts and files, the exact error kinds, labels, usage, removal, cleanup, filters and reopening.
 */
abstract class SnapshotterContract extends MountingTestBase {
    Path root;
    Snapshotter snapshotter;

    abstract Snapshotter open(Path root, boolean syncRemove);

    /** The directory holding the snapshot's own writable layer, read from its mounts. */
    static Path layerDir(List<Mount> mounts) {
        Mount m = mounts.get(0);
        if (m.type().equals("bind")) {
            return Path.of(m.source());
        }
        return Path.of(m.option("upperdir").orElseThrow());
    }

    @BeforeEach
    void openSnapshotter() {
        root = tmp.resolve("root");
        snapshotter = open(root, true);
    }

    @AfterEach
    void closeSnapshotter() {
        snapshotter.close();
    }

    /** prepare(key, parent) + write files + commit(name). */
    void layer(String name, String parent, Map<String, String> files) throws Exception {
        String key = "extract " + name;
        withMounted(snapshotter.prepare(key, parent), dir -> {
            for (Map.Entry<String, String> f : files.entrySet()) {
                Path p = dir.resolve(f.getKey());
                Files.createDirectories(p.getParent());
                Files.writeString(p, f.getValue());
            }
        });
        snapshotter.commit(name, key);
    }

    static List<String> listTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted()
                    .collect(Collectors.toList());
        }
    }

    @Test
    void preparedSnapshotsAreWritableAndChildrenSeeTheirParentsContent() throws Exception {
        layer("l1", null, Map.of("a", "from l1", "shared", "l1"));
        layer("l2", "l1", Map.of("b", "from l2", "shared", "l2"));

        withMounted(snapshotter.prepare("ctr", "l2"), dir -> {
            assertThat(dir.resolve("a")).hasContent("from l1");
            assertThat(dir.resolve("b")).hasContent("from l2");
            assertThat(dir.resolve("shared")).hasContent("l2");
            Files.writeString(dir.resolve("c"), "mine");
            Files.delete(dir.resolve("a"));
        });
        withMounted(snapshotter.mounts("ctr"), dir -> {
            assertThat(listTree(dir)).containsExactly("b", "c", "shared");
        });
        withMounted(snapshotter.view("v", "l2"), dir -> {
            assertThat(listTree(dir)).containsExactly("a", "b", "shared");
        });
    }

    @Test
    void viewsAreReadOnly() throws Exception {
        layer("l1", null, Map.of("a", "1"));
        layer("l2", "l1", Map.of("b", "2"));

        for (String parent : List.of("l1", "l2")) {
            List<Mount> mounts = snapshotter.view("view of " + parent, parent);
            assertThat(mounts.get(0).readOnly() || !mounts.get(0).option("upperdir").isPresent()).isTrue();
            withMounted(mounts, dir -> {
                assertThat(dir.resolve("a")).hasContent("1");
                assertThatThrownBy(() -> Files.writeString(dir.resolve("new"), "x"))
                        .isInstanceOf(FileSystemException.class)
                        .hasMessageContaining("Read-only file system");
            });
        }
        withMounted(snapshotter.view("empty view", null), dir -> assertThat(listTree(dir)).isEmpty());
    }

    @Test
    void commitReplacesTheActiveKeyWithTheCommittedName() throws Exception {
        Instant before = Instant.now();
        snapshotter.prepare("active", null, Map.of("from-prepare", "x"));
        snapshotter.commit("done", "active", Map.of("from-commit", "y"));

        assertThatThrownBy(() -> snapshotter.stat("active")).isInstanceOf(NotFoundException.class);
        SnapshotInfo info = snapshotter.stat("done");
        assertThat(info.kind()).isEqualTo(Kind.COMMITTED);
        assertThat(info.parent()).isNull();
        assertThat(info.labels()).containsEntry("from-commit", "y").doesNotContainKey("from-prepare");
        assertThat(info.created()).isAfterOrEqualTo(before);
        assertThat(info.updated()).isEqualTo(info.created());
    }

    @Test
    void statReportsKindParentAndLabels() throws Exception {
        layer("base", null, Map.of());
        snapshotter.prepare("a", "base", Map.of("x", "1"));
        snapshotter.view("v", "base");

        SnapshotInfo a = snapshotter.stat("a");
        assertThat(a.name()).isEqualTo("a");
        assertThat(a.parent()).isEqualTo("base");
        assertThat(a.kind()).isEqualTo(Kind.ACTIVE);
        assertThat(a.labels()).containsEntry("x", "1");
        assertThat(snapshotter.stat("v").kind()).isEqualTo(Kind.VIEW);
        assertThat(snapshotter.stat("base").kind()).isEqualTo(Kind.COMMITTED);
    }

    @Test
    void keysOfAllKindsShareOneNamespace() throws Exception {
        layer("committed", null, Map.of());
        snapshotter.prepare("active", null);
        snapshotter.view("view", null);

        for (String taken : List.of("committed", "active", "view")) {
            assertThatThrownBy(() -> snapshotter.prepare(taken, null))
                    .isInstanceOf(AlreadyExistsException.class).hasMessageContaining(taken);
            assertThatThrownBy(() -> snapshotter.view(taken, "committed"))
                    .isInstanceOf(AlreadyExistsException.class);
            assertThatThrownBy(() -> snapshotter.commit(taken, "active"))
                    .isInstanceOf(AlreadyExistsException.class);
        }
        assertThat(snapshotter.stat("active").kind()).isEqualTo(Kind.ACTIVE);
    }

    @Test
    void onlyCommittedSnapshotsCanBeParents() {
        snapshotter.prepare("active", null);
        snapshotter.view("view", null);

        assertThatThrownBy(() -> snapshotter.prepare("child", "active"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("not a committed");
        assertThatThrownBy(() -> snapshotter.view("child", "view"))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> snapshotter.prepare("child", "missing"))
                .isInstanceOf(NotFoundException.class).hasMessageContaining("missing");
        assertThat(snapshotter.list()).extracting(SnapshotInfo::name).containsExactlyInAnyOrder("active", "view");
    }

    @Test
    void viewsAndCommittedSnapshotsCannotBeCommitted() throws Exception {
        layer("c", null, Map.of());
        snapshotter.view("view", "c");

        assertThatThrownBy(() -> snapshotter.commit("x", "view"))
                .isInstanceOf(FailedPreconditionException.class).hasMessageContaining("view");
        assertThatThrownBy(() -> snapshotter.commit("y", "c"))
                .isInstanceOf(FailedPreconditionException.class);
        assertThatThrownBy(() -> snapshotter.commit("z", "missing"))
                .isInstanceOf(NotFoundException.class);
        assertThat(snapshotter.stat("view").kind()).isEqualTo(Kind.VIEW);
    }

    @Test
    void committedSnapshotsHaveNoMounts() throws Exception {
        layer("c", null, Map.of());

        assertThatThrownBy(() -> snapshotter.mounts("c")).isInstanceOf(FailedPreconditionException.class);
    }

    @Test
    void missingKeysAreNotFound() {
        assertThatThrownBy(() -> snapshotter.stat("nope")).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> snapshotter.mounts("nope")).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> snapshotter.usage("nope")).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> snapshotter.remove("nope")).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> snapshotter.update(new SnapshotInfo("nope", null, Kind.ACTIVE, Map.of(), null, null)))
                .isInstanceOf(NotFoundException.class);
    }

    @Test
    void emptyKeysAreInvalidArguments() {
        assertThatThrownBy(() -> snapshotter.prepare("", null)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> snapshotter.view(null, null)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> snapshotter.stat("")).isInstanceOf(InvalidArgumentException.class);
        snapshotter.prepare("a", null);
        assertThatThrownBy(() -> snapshotter.commit("", "a")).isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void badLabelsAreRejectedBeforeAnythingIsStored() {
        String huge = "x".repeat(5000);

        assertThatThrownBy(() -> snapshotter.prepare("a", null, Map.of("k", huge)))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("4096");
        assertThat(snapshotter.list()).isEmpty();
        snapshotter.prepare("a", null, Map.of("k", "v"));
        SnapshotInfo bad = snapshotter.stat("a").withLabels(Map.of("k", huge));
        assertThatThrownBy(() -> snapshotter.update(bad)).isInstanceOf(InvalidArgumentException.class);
        assertThat(snapshotter.stat("a").labels()).containsEntry("k", "v");
    }

    @Test
    void removeRefusesParentsWithChildren() throws Exception {
        layer("base", null, Map.of("f", "x"));
        snapshotter.prepare("child", "base");

        assertThatThrownBy(() -> snapshotter.remove("base"))
                .isInstanceOf(FailedPreconditionException.class).hasMessageContaining("children");
        snapshotter.remove("child");
        snapshotter.remove("base");
        assertThat(snapshotter.list()).isEmpty();
    }

    @Test
    void removeDeletesTheSnapshotsDirectory() throws Exception {
        List<Mount> mounts = snapshotter.prepare("a", null);
        Path dir = layerDir(mounts);
        assertThat(dir).isDirectory();

        snapshotter.remove("a");

        assertThat(dir).doesNotExist();
        assertThat(listTree(root.resolve("snapshots"))).isEmpty();
    }

    @Test
    void asyncRemoveLeavesTheDirectoryForCleanup() throws Exception {
        snapshotter.close();
        snapshotter = open(root, false);
        layer("keep", null, Map.of("f", "1"));
        Path dir = layerDir(snapshotter.prepare("a", null));

        snapshotter.remove("a");
        assertThat(dir).isDirectory();
        snapshotter.cleanup();

        assertThat(dir).doesNotExist();
        withMounted(snapshotter.view("v", "keep"), d -> assertThat(d.resolve("f")).hasContent("1"));
    }

    @Test
    void cleanupReclaimsOrphansAndKeepsLiveSnapshots() throws Exception {
        layer("keep", null, Map.of("f", "1"));
        Path snapshots = root.resolve("snapshots");
        List<String> before = listTree(snapshots);
        Files.createDirectories(snapshots.resolve("999/fs/sub"));
        Files.createDirectories(snapshots.resolve("new-998/fs"));
        Files.createDirectories(snapshots.resolve("rm-5-abc/x"));

        snapshotter.cleanup();

        assertThat(listTree(snapshots)).isEqualTo(before);
        withMounted(snapshotter.view("v", "keep"), d -> assertThat(d.resolve("f")).hasContent("1"));
    }

    @Test
    void updateChangesOnlyLabels() throws Exception {
        snapshotter.prepare("a", null, Map.of("keep", "1", "drop", "2", "change", "3"));
        SnapshotInfo before = snapshotter.stat("a");
        Thread.sleep(2);

        SnapshotInfo request = new SnapshotInfo("a", "ignored", Kind.COMMITTED,
                Map.of("change", "33", "new", "4"), Instant.EPOCH, Instant.EPOCH);
        SnapshotInfo after = snapshotter.update(request, "labels.change", "labels.drop", "labels.new");

        assertThat(after.labels()).containsEntry("keep", "1").containsEntry("change", "33")
                .containsEntry("new", "4").doesNotContainKey("drop");
        assertThat(after.kind()).isEqualTo(Kind.ACTIVE);
        assertThat(after.parent()).isNull();
        assertThat(after.created()).isEqualTo(before.created());
        assertThat(after.updated()).isAfter(before.updated());
        assertThat(snapshotter.stat("a").labels()).isEqualTo(after.labels());
    }

    @Test
    void updateWithoutFieldPathsOrWithLabelsReplacesAllLabels() {
        snapshotter.prepare("a", null, Map.of("x", "1"));

        assertThat(snapshotter.update(snapshotter.stat("a").withLabels(Map.of("y", "2"))).labels())
                .doesNotContainKey("x").containsEntry("y", "2");
        assertThat(snapshotter.update(snapshotter.stat("a").withLabels(Map.of("z", "3")), "labels").labels())
                .doesNotContainKeys("x", "y").containsEntry("z", "3");
    }

    @Test
    void updateOfOtherFieldsIsInvalid() {
        snapshotter.prepare("a", null, Map.of("x", "1"));

        assertThatThrownBy(() -> snapshotter.update(snapshotter.stat("a"), "parent"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("parent");
        assertThat(snapshotter.stat("a").labels()).containsEntry("x", "1");
    }

    @Test
    void usageCountsTheOwnLayerWithHardlinksOnce() throws Exception {
        List<Mount> mounts = snapshotter.prepare("a", null);
        Path layer = layerDir(mounts);
        withMounted(mounts, dir -> {
            Files.write(dir.resolve("big"), new byte[64 * 1024]);
            Files.createLink(dir.resolve("big-link"), dir.resolve("big"));
            Files.createDirectory(dir.resolve("d"));
        });

        Usage active = snapshotter.usage("a");
        assertThat(active).isEqualTo(new Usage(3, duBytes(layer)));
        assertThat(active.size()).isGreaterThanOrEqualTo(64 * 1024);

        snapshotter.commit("c", "a");
        assertThat(snapshotter.usage("c")).isEqualTo(active);
        snapshotter.view("v", "c");
        assertThat(snapshotter.usage("v")).isEqualTo(new Usage(0, 0));
    }

    /** Allocated bytes as du(1) counts them (hardlinks once): an oracle independent of our walker. */
    static long duBytes(Path dir) throws Exception {
        Process p = new ProcessBuilder("du", "-s", "--block-size=1", dir.toString()).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertThat(p.waitFor()).isZero();
        return Long.parseLong(out.split("\\s+")[0]);
    }

    @Test
    void walkFiltersByNameParentKindAndLabels() throws Exception {
        layer("base", null, Map.of());
        snapshotter.prepare("a", "base", Map.of("app", "web"));
        snapshotter.prepare("b", null, Map.of("app", "db"));
        snapshotter.view("v", "base", Map.of("containerd.io/gc.root", "x"));

        assertThat(names()).containsExactlyInAnyOrder("base", "a", "b", "v");
        assertThat(names("name==a")).containsExactly("a");
        assertThat(names("parent==base")).containsExactlyInAnyOrder("a", "v");
        assertThat(names("kind==committed")).containsExactly("base");
        assertThat(names("kind==view")).containsExactly("v");
        assertThat(names("labels.app==web")).containsExactly("a");
        assertThat(names("labels.app")).containsExactlyInAnyOrder("a", "b");
        assertThat(names("labels.\"containerd.io/gc.root\"")).containsExactly("v");
        assertThat(names("labels.app==db", "name==base")).containsExactlyInAnyOrder("b", "base");
        assertThat(names("kind==active,labels.app==web")).containsExactly("a");
        assertThat(names("parent")).containsExactlyInAnyOrder("a", "v");
    }

    private List<String> names(String... filters) {
        List<String> out = new ArrayList<>();
        snapshotter.walk(i -> out.add(i.name()), filters);
        return out;
    }

    @Test
    void stateSurvivesReopening() throws Exception {
        layer("base", null, Map.of("f", "1"));
        List<Mount> mounts = snapshotter.prepare("a", "base", Map.of("k", "v"));
        SnapshotInfo before = snapshotter.stat("a");

        snapshotter.close();
        snapshotter.close();
        snapshotter = open(root, true);

        assertThat(snapshotter.stat("a")).isEqualTo(before);
        assertThat(snapshotter.mounts("a")).isEqualTo(mounts);
        withMounted(mounts, d -> assertThat(d.resolve("f")).hasContent("1"));
    }

    @Test
    void closedSnapshottersRefuseWork() {
        snapshotter.close();

        assertThatThrownBy(() -> snapshotter.prepare("a", null)).isInstanceOf(dev.berth.api.ClosedException.class);
    }

    @Test
    void concurrentThreadsBuildIndependentChains() throws Exception {
        layer("base", null, Map.of("f", "base"));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            List<String> committed = Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < 4; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    String parent = "base";
                    for (int i = 0; i < 5; i++) {
                        String name = "t" + thread + "-" + i;
                        snapshotter.prepare("k-" + name, parent);
                        snapshotter.commit(name, "k-" + name);
                        committed.add(name);
                        parent = name;
                    }
                    // Everyone races for one name: exactly one commit may win.
                    snapshotter.prepare("race-" + thread, parent);
                    try {
                        snapshotter.commit("winner", "race-" + thread);
                    } catch (AlreadyExistsException lost) {
                        snapshotter.remove("race-" + thread);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertThat(committed).hasSize(20);
            assertThat(names("kind==committed")).hasSize(22);
            assertThat(names("kind==active")).isEmpty();
            assertThat(snapshotter.stat("t3-4").parent()).isEqualTo("t3-3");
        } finally {
            pool.shutdownNow();
        }
    }
}
