package dev.berth.metadata.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Mount;
import dev.berth.api.NotFoundException;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.api.snapshot.Usage;
import dev.berth.snapshot.Snapshotters;
import dev.berth.sys.sqlite.SqliteDb;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshot backend's record of an ephemeral container (run with rm) follows the container's durability:
 * written inside {@link NamespacedMetadata#atomicallyEphemeral}, the backend's own transaction does not
 * wait for the disk; everything else stays synced.
 */
class EphemeralDurabilityTest {
    @TempDir
    Path tmp;
    private Fixture f;

    @AfterEach
    void close() {
        System.clearProperty(NamespacedMetadata.SYNC_EPHEMERAL_BACKENDS);
        if (f != null) {
            f.close();
        }
    }

    private Recording open() {
        Recording backend = new Recording(Snapshotters.nativeSnapshotter(tmp.resolve("snapshots/native")));
        f = Fixture.open(tmp, backend);
        return backend;
    }

    @Test
    void theBackendWritesOfAnEphemeralTransactionAreUnsyncedAndThoseOfOthersSynced() {
        Recording backend = open();
        NamespacedMetadata ns = f.ns("a");
        ns.atomicallyEphemeral(() -> ns.snapshotter("native").prepare("rm-container", null));
        ns.atomically(() -> ns.snapshotter("native").prepare("kept-container", null));
        ns.snapshotter("native").prepare("alone", null);
        ns.atomicallyEphemeral(() -> {
            ns.snapshotter("native").remove("rm-container");
            return null;
        });

        assertThat(backend.writes).containsExactly("prepare unsynced", "prepare synced", "prepare synced",
                "remove unsynced");
        assertThat(SqliteDb.writesUnsyncedOnThisThread()).as("the scope ended with the transaction").isFalse();
        assertThat(ns.snapshotter("native").stat("kept-container").name()).isEqualTo("kept-container");
        assertThatThrownBy(() -> ns.snapshotter("native").stat("rm-container")).isInstanceOf(NotFoundException.class);
    }

    @Test
    void theSwitchKeepsTheBackendWritesOfAnEphemeralTransactionSynced() {
        Recording backend = open();
        NamespacedMetadata ns = f.ns("a");
        System.setProperty(NamespacedMetadata.SYNC_EPHEMERAL_BACKENDS, "true");
        ns.atomicallyEphemeral(() -> ns.snapshotter("native").prepare("rm-container", null));

        assertThat(backend.writes).containsExactly("prepare synced");
    }

    @Test
    void anEphemeralTransactionThatRollsBackStillRemovesTheBackendSnapshotItPrepared() {
        Recording backend = open();
        NamespacedMetadata ns = f.ns("a");
        assertThatThrownBy(() -> ns.atomicallyEphemeral(() -> {
            ns.snapshotter("native").prepare("rm-container", null);
            throw new IllegalStateException("spec rejected");
        })).hasMessage("spec rejected");

        assertThat(backend.writes).first().isEqualTo("prepare unsynced");
        assertThat(f.snapshotter.list()).as("the backend snapshot was removed with the rollback").isEmpty();
    }

    /** The native snapshotter, noting whether each write ran inside an unsynced scope. */
    private static final class Recording implements Snapshotter {
        final List<String> writes = new CopyOnWriteArrayList<>();
        private final Snapshotter real;

        Recording(Snapshotter real) {
            this.real = real;
        }

        private void note(String what) {
            writes.add(what + (SqliteDb.writesUnsyncedOnThisThread() ? " unsynced" : " synced"));
        }

        @Override
        public SnapshotInfo stat(String key) {
            return real.stat(key);
        }

        @Override
        public SnapshotInfo update(SnapshotInfo info, String... fieldPaths) {
            return real.update(info, fieldPaths);
        }

        @Override
        public Usage usage(String key) {
            return real.usage(key);
        }

        @Override
        public List<Mount> mounts(String key) {
            return real.mounts(key);
        }

        @Override
        public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
            note("prepare");
            return real.prepare(key, parent, labels);
        }

        @Override
        public List<Mount> view(String key, String parent, Map<String, String> labels) {
            note("view");
            return real.view(key, parent, labels);
        }

        @Override
        public void commit(String name, String key, Map<String, String> labels) {
            note("commit");
            real.commit(name, key, labels);
        }

        @Override
        public void remove(String key) {
            note("remove");
            real.remove(key);
        }

        @Override
        public void walk(Consumer<SnapshotInfo> fn, String... filters) {
            real.walk(fn, filters);
        }

        @Override
        public void cleanup() {
            real.cleanup();
        }

        @Override
        public String name() {
            return real.name();
        }

        @Override
        public void close() {
            real.close();
        }
    }
}
