package dev.berth.snapshot.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.snapshot.Kind;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetaStoreTest {
    @TempDir
    Path dir;
    private MetaStore store;

    @BeforeEach
    void open() {
        store = new MetaStore(dir.resolve("metadata.db"), Duration.ofSeconds(5));
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static Optional<MetaStore.Row> get(MetaStore s, String key) {
        return s.read(tx -> tx.get(key));
    }

    private boolean hasChildren(long id) {
        return store.read(tx -> tx.hasChildren(id));
    }

    private List<Long> chain(long id) {
        return store.read(tx -> tx.chain(id));
    }

    private List<MetaStore.Row> all() {
        return store.read(MetaStore.Tx::all);
    }

    @Test
    void insertedRowsCarryParentKeyKindLabelsAndNanosecondTimes() {
        Instant t = Instant.parse("2024-05-06T07:08:09.123456789Z");
        long base = store.write(tx -> tx.insert("base", null, Kind.ACTIVE, Map.of(), t));
        store.write(tx -> {
            tx.commit(base, "sha256:aa", Map.of("a", "1"), 3, 4096, t);
            return null;
        });
        long child = store.write(tx -> tx.insert("child", base, Kind.VIEW, Map.of("k", "v"), t));

        MetaStore.Row row = store.read(tx -> tx.get("child")).orElseThrow();
        assertThat(row.id()).isEqualTo(child);
        assertThat(row.parentKey()).isEqualTo("sha256:aa");
        assertThat(row.kind()).isEqualTo(Kind.VIEW);
        assertThat(row.labels()).containsExactly(Map.entry("k", "v"));
        assertThat(row.created()).isEqualTo(t);
        MetaStore.Row committed = store.read(tx -> tx.get("sha256:aa")).orElseThrow();
        assertThat(committed.id()).isEqualTo(base);
        assertThat(committed.kind()).isEqualTo(Kind.COMMITTED);
        assertThat(committed.inodes()).isEqualTo(3);
        assertThat(committed.size()).isEqualTo(4096);
        assertThat(get(store, "base")).isEmpty();
    }

    @Test
    void chainListsIdsFromTheSnapshotDownToTheBase() {
        Instant t = Instant.now();
        long a = store.write(tx -> tx.insert("a", null, Kind.COMMITTED, Map.of(), t));
        long b = store.write(tx -> tx.insert("b", a, Kind.COMMITTED, Map.of(), t));
        long c = store.write(tx -> tx.insert("c", b, Kind.ACTIVE, Map.of(), t));

        assertThat(chain(c)).containsExactly(c, b, a);
        assertThat(hasChildren(a)).isTrue();
        assertThat(hasChildren(c)).isFalse();
    }

    @Test
    void aFailedTransactionLeavesNoTrace() {
        assertThatThrownBy(() -> store.write(tx -> {
            tx.insert("doomed", null, Kind.ACTIVE, Map.of("x", "y"), Instant.now());
            throw new IllegalStateException("boom");
        })).isInstanceOf(IllegalStateException.class);

        assertThat(get(store, "doomed")).isEmpty();
        assertThat(all()).isEmpty();
    }

    @Test
    void duplicateKeysAreRejectedByTheSchema() {
        store.write(tx -> tx.insert("k", null, Kind.ACTIVE, Map.of(), Instant.now()));

        assertThatThrownBy(() -> store.write(tx -> tx.insert("k", null, Kind.VIEW, Map.of(), Instant.now())))
                .isInstanceOf(AlreadyExistsException.class);
    }

    @Test
    void idsOfDeletedSnapshotsAreNeverReused() {
        long first = store.write(tx -> tx.insert("a", null, Kind.ACTIVE, Map.of(), Instant.now()));
        store.write(tx -> {
            tx.delete(first);
            return null;
        });

        long second = store.write(tx -> tx.insert("a", null, Kind.ACTIVE, Map.of(), Instant.now()));

        assertThat(second).isGreaterThan(first);
    }

    @Test
    void aParentWithChildrenCannotBeDeletedEvenByMistake() {
        long a = store.write(tx -> tx.insert("a", null, Kind.COMMITTED, Map.of(), Instant.now()));
        store.write(tx -> tx.insert("b", a, Kind.ACTIVE, Map.of(), Instant.now()));

        assertThatThrownBy(() -> store.write(tx -> {
            tx.delete(a);
            return null;
        })).hasMessageContaining("FOREIGN KEY");
        assertThat(get(store, "a")).isPresent();
    }

    @Test
    void labelsAreReplacedAsAWhole() {
        long id = store.write(tx -> tx.insert("a", null, Kind.ACTIVE, Map.of("x", "1", "y", "2"), Instant.now()));
        store.write(tx -> {
            tx.updateLabels(id, Map.of("z", "3"), Instant.now());
            return null;
        });

        assertThat(get(store, "a").orElseThrow().labels()).containsExactly(Map.entry("z", "3"));
    }

    @Test
    void aSecondConnectionSeesCommittedWritesOnly() {
        try (MetaStore other = new MetaStore(dir.resolve("metadata.db"), Duration.ofSeconds(5))) {
            store.write(tx -> tx.insert("visible", null, Kind.ACTIVE, Map.of(), Instant.now()));
            assertThatThrownBy(() -> store.write(tx -> {
                tx.insert("invisible", null, Kind.ACTIVE, Map.of(), Instant.now());
                assertThat(get(other, "invisible")).isEmpty();
                throw new IllegalStateException("roll back");
            })).isInstanceOf(IllegalStateException.class);

            assertThat(get(other, "visible")).isPresent();
            assertThat(get(other, "invisible")).isEmpty();
        }
    }

    @Test
    void closedStoresRefuseWork() {
        store.close();
        store.close();

        assertThatThrownBy(() -> store.read(MetaStore.Tx::all)).isInstanceOf(dev.berth.api.ClosedException.class);
    }

    @Test
    void aFileWrittenBeforeMigrationsExistedOpensWithItsRecords() throws Exception {
        Path old = dir.resolve("old/metadata.db");
        java.nio.file.Files.createDirectories(old.getParent());
        // the schema and version the store wrote before it used SqliteDb's migrations
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + old); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS snapshots (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL"
                    + " UNIQUE, parent_id INTEGER REFERENCES snapshots(id) ON DELETE RESTRICT, kind INTEGER NOT NULL,"
                    + " created_ns INTEGER NOT NULL, updated_ns INTEGER NOT NULL, inodes INTEGER NOT NULL DEFAULT 0,"
                    + " size INTEGER NOT NULL DEFAULT 0)");
            st.execute("CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent_id)");
            st.execute("CREATE TABLE IF NOT EXISTS labels (snapshot_id INTEGER NOT NULL REFERENCES snapshots(id)"
                    + " ON DELETE CASCADE, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (snapshot_id, key))"
                    + " WITHOUT ROWID");
            st.execute("INSERT INTO snapshots (key, kind, created_ns, updated_ns) VALUES ('sha256:old', "
                    + Kind.COMMITTED.number() + ", 1, 1)");
            st.execute("INSERT INTO labels VALUES (1, 'l', 'v')");
            st.execute("PRAGMA user_version = 1");
        }

        try (MetaStore reopened = new MetaStore(old, Duration.ofSeconds(5))) {
            MetaStore.Row row = get(reopened, "sha256:old").orElseThrow();
            assertThat(row.kind()).isEqualTo(Kind.COMMITTED);
            assertThat(row.labels()).containsExactly(Map.entry("l", "v"));
            long next = reopened.write(tx -> tx.insert("new", row.id(), Kind.ACTIVE, Map.of(), Instant.now()));
            assertThat(next).isGreaterThan(row.id());
        }
    }
}
