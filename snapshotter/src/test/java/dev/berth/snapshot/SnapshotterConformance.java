package dev.berth.snapshot;

import static dev.berth.snapshot.FsChange.all;
import static dev.berth.snapshot.FsChange.chown;
import static dev.berth.snapshot.FsChange.createDir;
import static dev.berth.snapshot.FsChange.createFile;
import static dev.berth.snapshot.FsChange.link;
import static dev.berth.snapshot.FsChange.removeAll;
import static dev.berth.snapshot.FsChange.rename;
import static dev.berth.snapshot.FsChange.symlink;
import static dev.berth.snapshot.FsChange.writeAt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import dev.berth.api.Mount;
import dev.berth.api.NotFoundException;
import dev.berth.api.snapshot.Kind;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.api.snapshot.Usage;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviours containerd's snapshotter test suite checks, asserted with real mounts on every Berth
 * snapshotter. Layer tests apply the same changes to a snapshot's mount and to a plain directory and
 * require the two trees to be equal (types, modes, owners, contents, link counts) at every step and in a
 * final view of the committed chain.
 */
abstract class SnapshotterConformance extends MountingTestBase {
    static final Map<String, String> GC_ROOT = Map.of(Labels.GC_ROOT, Instant.now().toString());

    Path root;
    Snapshotter sn;
    private final AtomicInteger flats = new AtomicInteger();

    abstract Snapshotter open(Path root);

    @BeforeEach
    void openSnapshotter() {
        root = tmp.resolve("root");
        sn = open(root);
    }

    @AfterEach
    void closeSnapshotter() {
        sn.close();
    }

    /**
     * containerd's {@code checkSnapshots}: each layer is prepared on the previous one, must look like the
     * reference directory before and after the change, and is committed; a view of the top must too.
     * Returns the committed names, bottom first.
     */
    List<String> checkLayers(FsChange... layers) throws Exception {
        Path flat = Files.createDirectory(tmp.resolve("flat" + flats.incrementAndGet()));
        Files.setAttribute(flat, "unix:mode", 0755);
        String prefix = "L" + flats.get() + "-";
        List<String> committed = new ArrayList<>();
        String parent = null;
        for (int i = 0; i < layers.length; i++) {
            int layer = i;
            String key = prefix + "prepare-" + i;
            withMounted(sn.prepare(key, parent, GC_ROOT), dir -> {
                assertThat(TreeState.of(dir)).as("layer %d before its change", layer).isEqualTo(TreeState.of(flat));
                layers[layer].apply(flat);
                layers[layer].apply(dir);
                assertThat(TreeState.of(dir)).as("layer %d after its change", layer).isEqualTo(TreeState.of(flat));
            });
            parent = prefix + "committed-" + i;
            sn.commit(parent, key, GC_ROOT);
            committed.add(parent);
        }
        Map<String, String> expected = TreeState.of(flat);
        withMounted(sn.view(prefix + "view", parent, GC_ROOT),
                dir -> assertThat(TreeState.of(dir)).as("view of the whole chain").isEqualTo(expected));
        withMounted(sn.prepare(prefix + "top", parent, GC_ROOT),
                dir -> assertThat(TreeState.of(dir)).as("active snapshot on the chain").isEqualTo(expected));
        return committed;
    }

    void writeFile(List<Mount> mounts, String name, String content) throws Exception {
        withMounted(mounts, dir -> Files.writeString(dir.resolve(name), content));
    }

    List<String> names(String... filters) {
        List<String> out = new ArrayList<>();
        sn.walk(i -> out.add(i.name()), filters);
        return out;
    }

    // ----- lifecycle -----

    @Test
    void basicWorkflowPrepareCommitPrepareCommitViewThenRemoveTopDown() throws Exception {
        FsChange initial = all(createFile("foo", "foo\n", 0777), createDir("a", 0755), createDir("a/b", 0755),
                createDir("a/b/c", 0755));
        FsChange diff = all(createFile("bar", "bar\n", 0777), createFile("foo", "bar\n", 0777), removeAll("a/b"));
        Path flat = Files.createDirectory(tmp.resolve("basic-flat"));
        Files.setAttribute(flat, "unix:mode", 0755);

        withMounted(sn.prepare("preparing", null, GC_ROOT), initial::apply);
        sn.commit("committed", "preparing", GC_ROOT);
        SnapshotInfo si = sn.stat("committed");
        assertThat(si.parent()).isNull();
        assertThat(si.kind()).isEqualTo(Kind.COMMITTED);
        assertThatThrownBy(() -> sn.stat("preparing")).isInstanceOf(NotFoundException.class);

        initial.apply(flat);
        withMounted(sn.prepare("nextlayer", "committed", GC_ROOT), dir -> {
            assertThat(TreeState.of(dir)).isEqualTo(TreeState.of(flat));
            diff.apply(dir);
        });
        SnapshotInfo ni = sn.stat("nextlayer");
        assertThat(ni.parent()).isEqualTo("committed");
        assertThat(ni.kind()).isEqualTo(Kind.ACTIVE);
        sn.commit("committed-next", "nextlayer", GC_ROOT);
        SnapshotInfo si2 = sn.stat("committed-next");
        assertThat(si2.parent()).isEqualTo("committed");
        assertThat(si2.kind()).isEqualTo(Kind.COMMITTED);
        assertThatThrownBy(() -> sn.stat("nextlayer")).isInstanceOf(NotFoundException.class);

        Map<String, SnapshotInfo> walked = sn.list().stream()
                .collect(Collectors.toMap(SnapshotInfo::name, Function.identity()));
        assertThat(walked).containsEntry("committed", si).containsEntry("committed-next", si2).hasSize(2);

        diff.apply(flat);
        withMounted(sn.view("nextnextlayer", "committed-next", GC_ROOT),
                dir -> assertThat(TreeState.of(dir)).isEqualTo(TreeState.of(flat)));

        sn.remove("nextnextlayer");
        assertThatThrownBy(() -> sn.remove("committed")).isInstanceOf(FailedPreconditionException.class);
        sn.remove("committed-next");
        sn.remove("committed");
        sn.cleanup();
        assertThat(sn.list()).isEmpty();
        assertThat(SnapshotterContract.listTree(root.resolve("snapshots"))).as("nothing orphaned").isEmpty();
    }

    @Test
    void statOfAnActiveSnapshotBeingWritten() throws Exception {
        List<Mount> mounts = sn.prepare("preparing", null, GC_ROOT);
        withMounted(mounts, dir -> {
            Files.writeString(dir.resolve("foo"), "foo\n");
            SnapshotInfo si = sn.stat("preparing");
            assertThat(si.name()).isEqualTo("preparing");
            assertThat(si.kind()).isEqualTo(Kind.ACTIVE);
            assertThat(si.parent()).isNull();
            assertThat(si.labels()).containsAllEntriesOf(GC_ROOT);
        });
    }

    @Test
    void statOfACommittedSnapshotCommittedWhileStillMounted() throws Exception {
        List<Mount> mounts = sn.prepare("preparing", null, GC_ROOT);
        withMounted(mounts, dir -> {
            Files.writeString(dir.resolve("foo"), "foo\n");
            sn.commit("committed", "preparing", GC_ROOT);
        });
        SnapshotInfo si = sn.stat("committed");
        assertThat(si.name()).isEqualTo("committed");
        assertThat(si.kind()).isEqualTo(Kind.COMMITTED);
        assertThat(si.parent()).isNull();
        withMounted(sn.view("v", "committed"), dir -> assertThat(dir.resolve("foo")).hasContent("foo\n"));
    }

    @Test
    void parentsAreTransitiveAcrossThreeLayers() throws Exception {
        writeFile(sn.prepare("preparing", null, GC_ROOT), "foo", "foo\n");
        sn.commit("snapA", "preparing", GC_ROOT);
        writeFile(sn.prepare("next", "snapA", GC_ROOT), "foo", "foo bar\n");
        sn.commit("snapB", "next", GC_ROOT);
        writeFile(sn.prepare("third", "snapB", GC_ROOT), "baz", "baz\n");
        sn.commit("snapC", "third", GC_ROOT);

        SnapshotInfo c = sn.stat("snapC");
        SnapshotInfo b = sn.stat(c.parent());
        SnapshotInfo a = sn.stat(b.parent());
        assertThat(c.parent()).isEqualTo("snapB");
        assertThat(b.name()).isEqualTo("snapB");
        assertThat(a.name()).isEqualTo("snapA");
        assertThat(a.parent()).isNull();
        withMounted(sn.view("v", "snapC"), dir -> {
            assertThat(dir.resolve("foo")).hasContent("foo bar\n");
            assertThat(dir.resolve("baz")).hasContent("baz\n");
        });
        withMounted(sn.view("vA", "snapA"), dir -> {
            assertThat(dir.resolve("foo")).hasContent("foo\n");
            assertThat(dir.resolve("baz")).doesNotExist();
        });
    }

    @Test
    void aKeyInUseCannotBePreparedOrViewedAgain() throws Exception {
        sn.prepare("preparing", null, GC_ROOT);
        sn.commit("snapA", "preparing", GC_ROOT);

        sn.prepare("newlayer", "snapA", GC_ROOT);
        assertThatThrownBy(() -> sn.view("newlayer", "snapA", GC_ROOT)).isInstanceOf(AlreadyExistsException.class);
        sn.prepare("prepLayer", "snapA", GC_ROOT);
        assertThatThrownBy(() -> sn.prepare("prepLayer", "snapA", GC_ROOT))
                .isInstanceOf(AlreadyExistsException.class);
        sn.view("viewLayer", "snapA", GC_ROOT);
        assertThatThrownBy(() -> sn.view("viewLayer", "snapA", GC_ROOT)).isInstanceOf(AlreadyExistsException.class);
        assertThatThrownBy(() -> sn.prepare("snapA", null)).isInstanceOf(AlreadyExistsException.class);
        assertThat(sn.stat("newlayer").kind()).isEqualTo(Kind.ACTIVE);
        assertThat(sn.stat("viewLayer").kind()).isEqualTo(Kind.VIEW);
    }

    @Test
    void errorKindsForMisuseMatchContainerd() throws Exception {
        sn.prepare("active", null);
        sn.view("view", null);
        sn.prepare("c-a", null);
        sn.commit("committed", "c-a");

        assertThatThrownBy(() -> sn.prepare("x", "active")).as("active parent")
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> sn.view("x", "view")).as("view parent").isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> sn.prepare("x", "missing")).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> sn.commit("x", "committed")).as("commit of a committed key")
                .isInstanceOf(FailedPreconditionException.class);
        assertThatThrownBy(() -> sn.commit("x", "view")).isInstanceOf(FailedPreconditionException.class);
        assertThatThrownBy(() -> sn.commit("x", "missing")).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> sn.commit("committed", "active")).isInstanceOf(AlreadyExistsException.class);
        assertThatThrownBy(() -> sn.commit("committed", "missing")).as("the name is checked before the key")
                .isInstanceOf(AlreadyExistsException.class);
        assertThatThrownBy(() -> sn.remove("missing")).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> sn.mounts("committed")).isInstanceOf(FailedPreconditionException.class);
        assertThat(sn.list()).extracting(SnapshotInfo::name)
                .containsExactlyInAnyOrder("active", "view", "committed");
        assertThat(names("name==x")).isEmpty();
    }

    @Test
    void removedKeysAndNamesCanBeReused() throws Exception {
        sn.prepare("committed-a", null, GC_ROOT);
        sn.commit("committed-1", "committed-a", GC_ROOT);
        sn.prepare("reuse-1", "committed-1", GC_ROOT);
        sn.remove("reuse-1");
        sn.view("reuse-1", "committed-1", GC_ROOT);
        sn.remove("reuse-1");
        writeFile(sn.prepare("reuse-1", null, GC_ROOT), "second", "life");
        sn.remove("committed-1");
        sn.commit("committed-1", "reuse-1", GC_ROOT);
        assertThat(sn.stat("committed-1").parent()).isNull();
        withMounted(sn.view("v", "committed-1"), dir -> assertThat(SnapshotterContract.listTree(dir))
                .containsExactly("second"));
    }

    @Test
    void removingAnIntermediateSnapshotFailsUntilItsChildrenAreGone() throws Exception {
        sn.prepare("base", null, GC_ROOT);
        sn.commit("committed-base", "base", GC_ROOT);
        sn.prepare("intermediate", "committed-base", GC_ROOT);
        sn.commit("committed-inter", "intermediate", GC_ROOT);
        sn.prepare("toplayer", "committed-inter", GC_ROOT);

        sn.view("inter-view", "committed-inter");
        assertThatThrownBy(() -> sn.remove("committed-inter")).isInstanceOf(FailedPreconditionException.class);
        assertThatThrownBy(() -> sn.remove("committed-base")).isInstanceOf(FailedPreconditionException.class);
        sn.remove("toplayer");
        assertThatThrownBy(() -> sn.remove("committed-inter")).as("a view is a child too")
                .isInstanceOf(FailedPreconditionException.class);
        sn.remove("inter-view");
        sn.remove("committed-inter");
        sn.remove("committed-base");
        assertThat(sn.list()).isEmpty();
    }

    // ----- update and walk -----

    @Test
    void updateChangesOnlyLabelsOfSnapshotsOfEveryKind() throws Exception {
        Instant t1 = Instant.now();
        sn.prepare("c1-a", null, GC_ROOT);
        sn.commit("c1", "c1-a", GC_ROOT);
        sn.prepare("c2-a", "c1", GC_ROOT);
        sn.commit("c2", "c2-a", GC_ROOT);
        sn.prepare("a1", "c2", GC_ROOT);
        sn.prepare("a2", null, GC_ROOT);
        sn.view("v1", "c2", GC_ROOT);
        sn.view("v2", null, GC_ROOT);
        Instant t2 = Instant.now();
        record Case(String name, Kind kind, String parent) {
        }
        List<Case> cases = List.of(new Case("c1", Kind.COMMITTED, null), new Case("c2", Kind.COMMITTED, "c1"),
                new Case("a1", Kind.ACTIVE, "c2"), new Case("a2", Kind.ACTIVE, null),
                new Case("v1", Kind.VIEW, "c2"), new Case("v2", Kind.VIEW, null));
        for (Case tc : cases) {
            SnapshotInfo st = sn.stat(tc.name);
            assertThat(st.created()).as(tc.name).isBetween(t1, t2);
            assertThat(st.updated()).as(tc.name + " updated = created").isEqualTo(st.created());
            assertThat(st.kind()).isEqualTo(tc.kind);
            assertThat(st.parent()).isEqualTo(tc.parent);

            String rootTime = Instant.now().toString();
            Map<String, String> expected = Map.of("l1", "v1", "l2", "v2", "l3", "v3", Labels.GC_ROOT, rootTime);
            Instant u1 = Instant.now();
            SnapshotInfo updated = sn.update(new SnapshotInfo(tc.name, "doesnotexist", tc.kind, expected,
                    Instant.EPOCH, Instant.EPOCH));
            Instant u2 = Instant.now();
            assertThat(updated.created()).isEqualTo(st.created());
            assertThat(updated.updated()).isBetween(u1, u2);
            assertThat(updated.kind()).isEqualTo(tc.kind);
            assertThat(updated.parent()).as("parent is not updatable").isEqualTo(tc.parent);
            assertThat(updated.name()).isEqualTo(tc.name);
            assertThat(updated.labels()).isEqualTo(expected);

            updated = sn.update(updated.withLabels(Map.of("l1", "updated", "l4", "v4")), "labels.l1", "labels.l2");
            assertThat(updated.labels()).isEqualTo(Map.of("l1", "updated", "l3", "v3", Labels.GC_ROOT, rootTime));

            Map<String, String> replaced = Map.of("l4", "v4", Labels.GC_ROOT, rootTime);
            updated = sn.update(updated.withLabels(replaced), "labels");
            assertThat(updated.labels()).isEqualTo(replaced);

            for (String immutable : List.of("parent", "name", "kind", "created", "updated")) {
                SnapshotInfo request = new SnapshotInfo(tc.name, "doesnotexist", Kind.VIEW, Map.of(), Instant.EPOCH,
                        Instant.EPOCH);
                assertThatThrownBy(() -> sn.update(request, immutable)).as(immutable)
                        .isInstanceOf(InvalidArgumentException.class);
            }
            assertThat(sn.stat(tc.name).labels()).isEqualTo(replaced);
        }
    }

    @Test
    void anEmptyLabelValueRemovesTheLabel() {
        sn.prepare("a", null, Map.of("keep", "1", "gone", ""));
        assertThat(sn.stat("a").labels()).isEqualTo(Map.of("keep", "1"));
        SnapshotInfo u = sn.update(sn.stat("a").withLabels(Map.of("keep", "", "x", "2")));
        assertThat(u.labels()).isEqualTo(Map.of("x", "2"));
    }

    @Test
    void walkFiltersLikeContainerd() {
        Map<String, String> walkRoot = Map.of(Labels.GC_ROOT, "check-walk");
        Map<String, String> l1 = new HashMap<>(walkRoot);
        l1.put("l", "1");
        Map<String, String> l2 = new HashMap<>(walkRoot);
        l2.put("l", "2");
        Map<String, String> l3 = new HashMap<>(walkRoot);
        l3.put("l", "3");
        sn.prepare("a-np", null, walkRoot);
        sn.prepare("p-tmp", null, walkRoot);
        sn.commit("p", "p-tmp", walkRoot);
        sn.prepare("a", "p", walkRoot);
        sn.view("v", "p", walkRoot);
        sn.prepare("p-wl-tmp", null, walkRoot);
        sn.commit("p-wl", "p-wl-tmp", l1);
        sn.prepare("a-wl", "p-wl", l2);
        sn.view("v-wl", "p-wl", l3);
        sn.prepare("a-np-wl", null, l2);

        String gc = "labels.\"containerd.io/gc.root\"==check-walk";
        assertThat(names(gc)).containsExactlyInAnyOrder("a-np", "p", "a", "v", "p-wl", "a-wl", "v-wl", "a-np-wl");
        assertThat(names("kind==active," + gc)).containsExactlyInAnyOrder("a-np", "a", "a-wl", "a-np-wl");
        assertThat(names("kind==view," + gc)).containsExactlyInAnyOrder("v", "v-wl");
        assertThat(names("kind==committed," + gc)).containsExactlyInAnyOrder("p", "p-wl");
        assertThat(names("name==p", "name==a-np-wl")).containsExactlyInAnyOrder("p", "a-np-wl");
        assertThat(names("name==a-wl,labels.l")).containsExactly("a-wl");
        assertThat(names("parent==p")).containsExactlyInAnyOrder("a", "v");
        assertThat(names("parent!=\"\"," + gc)).containsExactlyInAnyOrder("a", "v", "a-wl", "v-wl");
        assertThat(names("labels.l")).containsExactlyInAnyOrder("p-wl", "a-wl", "v-wl", "a-np-wl");
        assertThat(names("labels.l==2")).containsExactlyInAnyOrder("a-wl", "a-np-wl");
        assertThat(names("kind~=\"^(view|committed)$\"")).containsExactlyInAnyOrder("p", "v", "p-wl", "v-wl");
        assertThatThrownBy(() -> names("kind==")).isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void statAndRemoveInsideAWalkDoNotDeadlock() {
        sn.prepare("stats-in-walk-c1-a", null);
        sn.commit("stats-in-walk-c1", "stats-in-walk-c1-a");
        sn.prepare("stats-in-walk-c2-a", "stats-in-walk-c1");
        sn.commit("stats-in-walk-c2", "stats-in-walk-c2-a");
        sn.prepare("stats-in-walk-a1", "stats-in-walk-c2");
        sn.view("stats-in-walk-v1", "stats-in-walk-c2");
        List<String> seen = new ArrayList<>();
        sn.walk(si -> {
            assertThat(sn.stat(si.name())).isEqualTo(si);
            seen.add(si.name());
            if (si.kind() == Kind.VIEW) {
                sn.remove(si.name());
            }
        });
        assertThat(seen).hasSize(4);
        assertThat(names()).containsExactlyInAnyOrder("stats-in-walk-c1", "stats-in-walk-c2", "stats-in-walk-a1");
    }

    // ----- layers seen through mounts -----

    @Test
    void aNewSnapshotsRootIs0755() throws Exception {
        withMounted(sn.prepare("preparing", null, GC_ROOT),
                dir -> assertThat(Files.getAttribute(dir, "unix:mode")).isEqualTo(040755));
    }

    @Test
    void aFileUpdatedInAnUpperLayerShowsTheNewContentAndMode() throws Exception {
        FsChange l1 = all(createDir("etc", 0700), createFile("etc/hosts", "mydomain 10.0.0.1", 0644),
                createFile("etc/profile", "PATH=/usr/bin", 0644));
        FsChange l2 = all(createFile("etc/hosts", "mydomain 10.0.0.2", 0644),
                createFile("etc/profile", "PATH=/usr/bin", 0666), createDir("root", 0700),
                createFile("root/.bashrc", "PATH=/usr/sbin:/usr/bin", 0644));
        List<String> names = checkLayers(l1, l2);
        withMounted(sn.view("lower", names.get(0)), dir -> {
            assertThat(dir.resolve("etc/hosts")).as("the lower layer is untouched").hasContent("mydomain 10.0.0.1");
            assertThat(Files.getAttribute(dir.resolve("etc/profile"), "unix:mode")).isEqualTo(0100644);
        });
    }

    @Test
    void aDirectoryRemovedAndRecreatedHidesItsLowerContents() throws Exception {
        checkLayers(all(createDir("lib", 0700), createFile("lib/hidden", new byte[0], 0644)),
                all(removeAll("lib"), createDir("lib", 0700), createFile("lib/not-hidden", new byte[0], 0644)),
                createFile("lib/newfile", new byte[0], 0644));
    }

    @Test
    void chownOfLowerDirectoriesAndFilesIsKept() throws Exception {
        checkLayers(all(createDir("opt", 0700), createDir("opt/a", 0700), createDir("opt/a/b", 0700),
                        createFile("opt/a/b/file.txt", "hello", 0644)),
                all(chown("opt", 1, 1), chown("opt/a", 1, 1), chown("opt/a/b", 1, 1),
                        chown("opt/a/b/file.txt", 1, 1)));
    }

    @Test
    void directoryOwnersAndPermissionsSurviveCommit() throws Exception {
        checkLayers(
                all(createDir("dir1", 0700), createDir("dir2", 0700), createDir("dir3", 0700), createDir("dir4", 0700),
                        createFile("dir4/f1", "...", 0644), createDir("dir5", 0700), createFile("dir5/f1", "...", 0644),
                        chown("dir1", 1, 1), chown("dir2", 1, 1), chown("dir3", 1, 1), chown("dir5", 1, 1),
                        chown("dir5/f1", 1, 1)),
                all(chown("dir2", 0, 0), removeAll("dir3"), chown("dir4", 1, 1), chown("dir4/f1", 1, 1)),
                all(createDir("dir3", 0700), chown("dir3", 1, 1), removeAll("dir5"), createDir("dir5", 0700),
                        chown("dir5", 1, 1)));
    }

    @Test
    void filesDeletedInAChildStayDeletedInItsChildren() throws Exception {
        checkLayers(all(createFile("foo", "foo\n", 0777), createFile("foobar", "foobar\n", 0777)),
                removeAll("foobar"), all());
    }

    @Test
    void filesMovedAndHardlinkedFromALowerLayer() throws Exception {
        checkLayers(
                all(createDir("dir1", 0700), createFile("dir1/f1", "Hello", 0644), createDir("dir2", 0700),
                        createFile("dir2/f2", "...", 0644)),
                all(createDir("dir3", 0700), createFile("dir3/f1", "Hello", 0644), removeAll("dir1"),
                        link("dir2/f2", "dir3/f2"), removeAll("dir2/f2")));
    }

    @Test
    void renamesOfLowerFilesAndDirectories() throws Exception {
        checkLayers(
                all(createDir("dir1", 0700), createFile("dir1/inside", "in", 0640), createDir("somefiles", 0700),
                        createFile("somefiles/f1", "was here first!", 0644),
                        createFile("somefiles/f2", "nothing interesting", 0644)),
                all(rename("dir1", "dir2"), createFile("somefiles/f1-overwrite", "new content 1", 0644),
                        rename("somefiles/f1-overwrite", "somefiles/f1"), rename("somefiles/f2", "somefiles/f3")));
    }

    @Test
    void symlinksHardlinksAndModesAcrossThreeLayers() throws Exception {
        checkLayers(
                all(createDir("bin", 0755), createFile("bin/tool", "#!/bin/sh\n", 04755), symlink("tool", "bin/alias"),
                        createDir("tmp", 01777), createFile("data", "d", 0600), link("data", "data-link")),
                all(removeAll("bin/alias"), symlink("../data", "bin/alias"), FsChange.chmod("bin/tool", 0755),
                        createFile("other", "o", 0600)),
                all(removeAll("data-link"), removeAll("data"), createFile("tmp/x", "x", 0666), removeAll("bin")));
    }

    @Test
    void aViewIsMountedReadOnly() throws Exception {
        writeFile(sn.prepare("preparing", null, GC_ROOT), "existing", "e");
        sn.commit("committed", "preparing", GC_ROOT);
        writeFile(sn.prepare("p2", "committed", GC_ROOT), "second", "s");
        sn.commit("committed2", "p2", GC_ROOT);
        for (String parent : List.of("committed", "committed2")) {
            withMounted(sn.view("view-" + parent, parent, GC_ROOT), dir -> {
                List<ThrowingCallable> writes = List.of(
                        () -> Files.writeString(dir.resolve("testfile"), "testcontent"),
                        () -> Files.writeString(dir.resolve("existing"), "changed"),
                        () -> Files.delete(dir.resolve("existing")),
                        () -> Files.createDirectory(dir.resolve("d")),
                        () -> Files.setAttribute(dir.resolve("existing"), "unix:mode", 0600));
                for (ThrowingCallable w : writes) {
                    assertThatThrownBy(w).isInstanceOf(FileSystemException.class)
                            .hasMessageContaining("Read-only file system");
                }
                assertThat(dir.resolve("existing")).hasContent("e");
            });
            sn.remove("view-" + parent);
        }
        sn.remove("committed2");
        sn.remove("committed");
    }

    @Test
    void usageOfACommittedChildCountsWhatItsLayerHolds() throws Exception {
        writeFile(sn.prepare("base", null), "big-lower", "x".repeat(100_000));
        sn.commit("c-base", "base");
        List<Mount> mounts = sn.prepare("child", "c-base");
        byte[] a = new byte[300_000];
        new Random(1).nextBytes(a);
        withMounted(mounts, dir -> {
            Files.write(dir.resolve("a"), a);
            Files.createDirectory(dir.resolve("d"));
            Files.writeString(dir.resolve("d/b"), "small");
        });
        Path layer = SnapshotterContract.layerDir(mounts);
        Usage active = sn.usage("child");
        sn.commit("c-child", "child");
        Usage committed = sn.usage("c-child");

        assertThat(committed).as("commit keeps the usage").isEqualTo(active);
        assertThat(committed.size()).isEqualTo(SnapshotterContract.duBytes(layer));
        assertThat(committed.size()).isGreaterThanOrEqualTo(300_000 + 5);
        assertThat(committed.inodes()).as("inodes of the layer directory").isEqualTo(childLayerInodes());
        assertThat(sn.usage("c-base").size()).isGreaterThanOrEqualTo(100_000);
        if (childLayersHoldOnlyTheirChanges()) {
            assertThat(committed.size()).as("the parent's bytes are not counted").isLessThan(300_000 + 100_000);
        } else {
            assertThat(committed.size()).as("a full copy counts the parent's bytes too")
                    .isGreaterThanOrEqualTo(300_000 + 100_000);
        }
    }

    /** Inodes of the child layer in the usage test: its root, a, d, d/b, plus copied parent files if any. */
    abstract long childLayerInodes();

    /** Whether a child's layer directory holds only its changes (overlay) or a full copy (native). */
    abstract boolean childLayersHoldOnlyTheirChanges();

    @Test
    void aLargeFileKeepsEveryByteThroughSeveralLayers() throws Exception {
        byte[] big = new byte[16 << 20];
        new Random(7).nextBytes(big);
        byte[] patch = new byte[1 << 20];
        new Random(8).nextBytes(patch);
        byte[] patched = big.clone();
        System.arraycopy(patch, 0, patched, 10 << 20, patch.length);
        List<String> names = checkLayers(createFile("big", big, 0644), writeAt("big", 10 << 20, patch),
                createFile("other", "unrelated", 0644), all());
        withMounted(sn.view("final", names.get(3)), dir -> {
            assertThat(Files.size(dir.resolve("big"))).isEqualTo(big.length);
            assertThat(Files.readAllBytes(dir.resolve("big"))).isEqualTo(patched);
        });
        withMounted(sn.view("first", names.get(0)),
                dir -> assertThat(Files.readAllBytes(dir.resolve("big"))).as("the lowest layer").isEqualTo(big));
    }

    @Test
    void aChainOf128LayersMountsAndMatchesTheFlatTree() throws Exception {
        List<FsChange> layers = new ArrayList<>();
        layers.add(all(createFile("bottom", "way at the bottom\n", 0777), createFile("overwriteme", "FIRST!\n", 0777),
                createDir("ADDHERE", 0755), createDir("ONLYME", 0755), createFile("ONLYME/bottom", "bye!\n", 0777)));
        for (int i = 1; i <= 127; i++) {
            layers.add(all(createFile("overwriteme", i + " WAS HERE!\n", 0777),
                    createFile("ADDHERE/file-" + i, "same\n", 0755), removeAll("ONLYME"), createDir("ONLYME", 0755),
                    createFile("ONLYME/file-" + i, "only me!\n", 0777)));
        }
        List<String> names = checkLayers(layers.toArray(FsChange[]::new));
        withMounted(sn.view("top-view", names.get(127)), dir -> {
            assertThat(dir.resolve("overwriteme")).hasContent("127 WAS HERE!\n");
            assertThat(dir.resolve("bottom")).hasContent("way at the bottom\n");
            assertThat(SnapshotterContract.listTree(dir.resolve("ONLYME"))).containsExactly("file-127");
            assertThat(SnapshotterContract.listTree(dir.resolve("ADDHERE"))).hasSize(127);
        });
    }

    @Test
    void closingTwiceIsHarmless() {
        sn.prepare("closeTwice-prepare", null, GC_ROOT);
        sn.commit("closeTwice", "closeTwice-prepare", GC_ROOT);
        sn.remove("closeTwice");
        sn.close();
        sn.close();
        assertThatThrownBy(() -> sn.stat("closeTwice")).isInstanceOf(dev.berth.api.ClosedException.class);
    }
}
