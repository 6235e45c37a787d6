package dev.berth.metadata.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.snapshot.Kind;
import dev.berth.api.snapshot.SnapshotInfo;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamespacedSnapshotterTest {
    @TempDir
    Path tmp;
    Fixture f;

    @BeforeEach
    void open() {
        f = Fixture.open(tmp);
    }

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void keysAreNamespacedOnTheBackend() {
        MetaSnapshotter a = f.ns("a").snapshotter("native");
        MetaSnapshotter b = f.ns("b").snapshotter("native");
        a.prepare("k", null);
        b.prepare("k", null);
        assertThat(f.snapshotter.list()).extracting(SnapshotInfo::name)
                .allSatisfy(n -> assertThat(n).matches("(a|b)/\\d+/k")).hasSize(2);
        assertThat(a.stat("k").kind()).isEqualTo(Kind.ACTIVE);
        a.remove("k");
        assertThatThrownBy(() -> a.stat("k")).isInstanceOf(NotFoundException.class);
        assertThat(b.stat("k").name()).isEqualTo("k");
        assertThat(f.snapshotter.list()).hasSize(1);
    }

    @Test
    void lifecycleOfPrepareCommitViewAndRemove() {
        MetaSnapshotter s = f.ns("a").snapshotter("native");
        s.prepare("extract-1 L0", null, Map.of("containerd.io/snapshot.ref", "L0", "mine", "x"));
        s.commit("L0", "extract-1 L0", Map.of("c", "1"));
        assertThatThrownBy(() -> s.stat("extract-1 L0")).isInstanceOf(NotFoundException.class);
        SnapshotInfo l0 = s.stat("L0");
        assertThat(l0.kind()).isEqualTo(Kind.COMMITTED);
        assertThat(l0.labels()).containsOnly(Map.entry("c", "1"));
        s.prepare("ctr", "L0");
        s.view("ro", "L0");
        assertThat(s.stat("ctr").parent()).isEqualTo("L0");
        assertThat(s.stat("ro").kind()).isEqualTo(Kind.VIEW);
        assertThat(s.mounts("ctr")).isNotEmpty();
        assertThatThrownBy(() -> s.mounts("L0")).isInstanceOf(FailedPreconditionException.class);
        assertThatThrownBy(() -> s.remove("L0")).isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("2 child snapshots");
        s.remove("ctr");
        s.remove("ro");
        s.remove("L0");
        assertThat(s.list()).isEmpty();
        assertThat(f.snapshotter.list()).isEmpty();
        await().untilAsserted(() -> assertThat(f.topics()).containsSubsequence("/snapshot/prepare", "/snapshot/commit",
                "/snapshot/prepare", "/snapshot/prepare", "/snapshot/remove"));
    }

    @Test
    void aRemovalRolledBackWithItsEnclosingTransactionKeepsTheBackendSnapshot() {
        NamespacedMetadata ns = f.ns("a");
        MetaSnapshotter s = ns.snapshotter("native");
        s.prepare("k", null);
        assertThatThrownBy(() -> ns.db().write(tx -> {
            s.remove("k");
            assertThat(f.snapshotter.list()).as("files stay until the removal commits").hasSize(1);
            throw new IllegalStateException("the enclosing work fails");
        })).isInstanceOf(IllegalStateException.class);

        assertThat(s.stat("k").kind()).isEqualTo(Kind.ACTIVE);
        assertThat(f.snapshotter.list()).hasSize(1);
        assertThat(s.mounts("k")).isNotEmpty();

        ns.db().write(tx -> {
            s.remove("k");
            return null;
        });
        assertThat(f.snapshotter.list()).as("gone once the enclosing transaction committed").isEmpty();
    }

    @Test
    void onlyMetadataLabelsAreKeptAndInheritedOnesReachTheBackend() {
        MetaSnapshotter s = f.ns("a").snapshotter("native");
        s.prepare("k", null, Map.of("containerd.io/snapshot/x", "1", "user", "2"));
        assertThat(s.stat("k").labels()).containsOnly(Map.entry("containerd.io/snapshot/x", "1"),
                Map.entry("user", "2"));
        assertThat(f.snapshotter.list().get(0).labels()).containsOnly(Map.entry("containerd.io/snapshot/x", "1"));
        s.update(new SnapshotInfo("k", null, Kind.ACTIVE, Map.of("user", "3"), null, null), "labels.user");
        assertThat(s.stat("k").labels()).containsEntry("user", "3");
    }

    @Test
    void errorsFollowContainerd() {
        MetaSnapshotter s = f.ns("a").snapshotter("native");
        s.prepare("active", null);
        assertThatThrownBy(() -> s.prepare("active", null)).isInstanceOf(AlreadyExistsException.class);
        assertThatThrownBy(() -> s.prepare("child", "active")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("only committed");
        assertThatThrownBy(() -> s.prepare("child", "missing")).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> s.prepare("", null)).isInstanceOf(InvalidArgumentException.class);
        s.view("v", null);
        assertThatThrownBy(() -> s.commit("c", "v")).isInstanceOf(FailedPreconditionException.class);
        s.commit("c", "active");
        s.prepare("active2", null);
        assertThatThrownBy(() -> s.commit("c", "active2")).isInstanceOf(AlreadyExistsException.class);
        assertThatThrownBy(() -> f.ns("b").snapshotter("native").prepare("x", "c"))
                .as("a parent from another namespace is not visible").isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> f.ns("a").snapshotter("overlayfs")).isInstanceOf(NotFoundException.class)
                .hasMessageContaining("native");
    }

    @Test
    void walkFiltersOnNameParentKindAndLabels() {
        MetaSnapshotter s = f.ns("a").snapshotter("native");
        s.prepare("p-active", null);
        s.commit("base", "p-active", Map.of("layer", "0"));
        s.prepare("top", "base");
        assertThat(s.list("kind==committed")).extracting(SnapshotInfo::name).containsExactly("base");
        assertThat(s.list("parent==base")).extracting(SnapshotInfo::name).containsExactly("top");
        assertThat(s.list("name==top")).hasSize(1);
        assertThat(s.list("labels.layer==0")).extracting(SnapshotInfo::name).containsExactly("base");
        assertThat(s.list("parent")).extracting(SnapshotInfo::name).containsExactly("top");
    }

    @Test
    void snapshotPreparedInATransactionThatRollsBackLeavesNothingInTheBackendOrTheEvents() {
        NamespacedMetadata ns = f.ns("a");
        MetaSnapshotter s = ns.snapshotter("native");
        s.prepare("base", null);
        s.commit("L0", "base");
        int before = f.snapshotter.list().size();
        await().until(() -> f.topics().contains("/snapshot/commit")); // delivery is asynchronous
        f.published.clear();

        assertThatThrownBy(() -> ns.atomically(() -> {
            s.prepare("ctr", "L0");
            assertThat(f.snapshotter.list()).as("the backend snapshot exists inside the transaction")
                    .hasSize(before + 1);
            throw new IllegalStateException("spec rejected");
        })).hasMessage("spec rejected");

        assertThatThrownBy(() -> s.stat("ctr")).isInstanceOf(NotFoundException.class);
        assertThat(f.snapshotter.list()).hasSize(before);
        s.prepare("ctr", "L0");
        await().until(() -> !f.topics().isEmpty());
        assertThat(f.topics()).as("only the prepare that committed was published").containsExactly("/snapshot/prepare");
    }

    @Test
    void deferredRemovalDeletesTheRecordAndLeavesTheBackendSnapshotToGarbageCollection() {
        f.close();
        f = Fixture.open(tmp, dev.berth.GcPolicy.manual(), true);
        MetaSnapshotter s = f.ns("a").snapshotter("native");
        s.prepare("ctr", null);

        s.remove("ctr");

        assertThatThrownBy(() -> s.stat("ctr")).isInstanceOf(NotFoundException.class);
        assertThat(f.snapshotter.list()).as("still in the backend until the next collection").hasSize(1);
        assertThat(f.md.gc().backendSnapshots()).isEqualTo(1);
        assertThat(f.snapshotter.list()).isEmpty();
    }
}
