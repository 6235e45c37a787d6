package dev.berth.metadata.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.FailedPreconditionException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetaDbTest {
    @TempDir
    Path tmp;

    private static String pragma(Path file, String name) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void newDatabaseIsInWalModeAtTheCurrentSchemaVersion() throws Exception {
        Path file = tmp.resolve("meta.db");
        MetaDb.open(file, Duration.ofSeconds(5)).close();
        assertThat(pragma(file, "journal_mode")).isEqualTo("wal");
        assertThat(pragma(file, "user_version")).isEqualTo(String.valueOf(MetaDb.SCHEMA_VERSION));
    }

    @Test
    void databaseWrittenByANewerVersionIsRefusedAndLeftAlone() throws Exception {
        Path file = tmp.resolve("meta.db");
        MetaDb.open(file, Duration.ofSeconds(5)).close();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            st.execute("PRAGMA user_version = 99");
        }
        assertThatThrownBy(() -> MetaDb.open(file, Duration.ofSeconds(5)))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("schema version 99");
        assertThat(pragma(file, "user_version")).isEqualTo("99");
    }

    @Test
    void pendingMigrationsRunInOrderOnceEach() throws Exception {
        Path file = tmp.resolve("meta.db");
        List<String> ran = new ArrayList<>();
        List<MetaDb.Migration> first = List.of(tx -> {
            ran.add("v1");
            tx.update("CREATE TABLE t (x INTEGER)");
        });
        MetaDb.open(file, Duration.ofSeconds(5), first).close();
        List<MetaDb.Migration> both = List.of(first.get(0), tx -> {
            ran.add("v2");
            tx.update("ALTER TABLE t ADD COLUMN y TEXT");
        });
        MetaDb.open(file, Duration.ofSeconds(5), both).close();
        MetaDb.open(file, Duration.ofSeconds(5), both).close();
        assertThat(ran).containsExactly("v1", "v2");
        assertThat(pragma(file, "user_version")).isEqualTo("2");
    }

    @Test
    void failedWorkRollsBackTheWholeTransaction() {
        try (MetaDb db = MetaDb.open(tmp.resolve("meta.db"), Duration.ofSeconds(5))) {
            assertThatThrownBy(() -> db.write(tx -> {
                tx.update("INSERT INTO namespaces(name, labels, created_ns, updated_ns) VALUES ('a', '{}', 1, 1)");
                throw new IllegalStateException("boom");
            })).hasMessage("boom");
            long rows = db.read(tx -> tx.count("SELECT count(*) FROM namespaces"));
            assertThat(rows).isZero();
        }
    }

    @Test
    void nestedWritesJoinTheOuterTransaction() {
        try (MetaDb db = MetaDb.open(tmp.resolve("meta.db"), Duration.ofSeconds(5))) {
            long seqs = db.write(tx -> {
                long a = tx.nextSequence("s");
                long b = db.write(inner -> inner.nextSequence("s"));
                return a * 10 + b;
            });
            assertThat(seqs).isEqualTo(12);
            assertThatThrownBy(() -> db.read(tx -> db.write(inner -> inner.nextSequence("s"))))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("inside a read transaction");
        }
    }

    @Test
    void afterCommitActionsWaitForTheOutermostCommit() {
        try (MetaDb db = MetaDb.open(tmp.resolve("meta.db"), Duration.ofSeconds(5))) {
            List<String> ran = new ArrayList<>();
            db.write(tx -> {
                db.write(inner -> {
                    inner.nextSequence("s");
                    db.afterCommit(() -> ran.add("inner"));
                    return null;
                });
                assertThat(ran).as("the inner write has returned, the transaction is still open").isEmpty();
                db.afterCommit(() -> ran.add("outer"));
                return null;
            });
            assertThat(ran).containsExactly("inner", "outer");

            db.afterCommit(() -> ran.add("no transaction: at once"));
            assertThat(ran).last().isEqualTo("no transaction: at once");
        }
    }

    @Test
    void rollbackRunsUndoActionsAndDropsAfterCommitActions() {
        try (MetaDb db = MetaDb.open(tmp.resolve("meta.db"), Duration.ofSeconds(5))) {
            List<String> ran = new ArrayList<>();
            assertThatThrownBy(() -> db.write(tx -> {
                db.write(inner -> {
                    db.onRollback(() -> ran.add("undo"));
                    db.afterCommit(() -> ran.add("published"));
                    return null;
                });
                throw new IllegalStateException("later step failed");
            })).hasMessage("later step failed");
            assertThat(ran).containsExactly("undo");

            db.write(tx -> {
                db.onRollback(() -> ran.add("undo of a committed change"));
                return null;
            });
            assertThat(ran).containsExactly("undo");
        }
    }

    @Test
    void aFailingAfterCommitActionDoesNotStopTheOthersOrUndoTheCommit() {
        try (MetaDb db = MetaDb.open(tmp.resolve("meta.db"), Duration.ofSeconds(5))) {
            List<String> ran = new ArrayList<>();
            long seq = db.write(tx -> {
                db.afterCommit(() -> {
                    throw new IllegalStateException("listener broke");
                });
                db.afterCommit(() -> ran.add("second"));
                return tx.nextSequence("s");
            });
            assertThat(ran).containsExactly("second");
            long stored = db.read(tx -> tx.count("SELECT value FROM sequences WHERE name = 's'"));
            assertThat(stored).isEqualTo(seq);
        }
    }

    @Test
    void unsyncedWritesCommitAtNormalSynchronousAndLeaveTheConnectionAtFull() {
        try (MetaDb db = MetaDb.open(tmp.resolve("meta.db"), Duration.ofSeconds(5))) {
            MetaDb.RowMapper<Integer> level = rs -> rs.getInt(1);
            int during = db.writeUnsynced(tx -> {
                tx.nextSequence("s");
                int nested = db.write(inner -> inner.one("PRAGMA synchronous", level).orElseThrow());
                assertThat(nested).as("a nested write joins with the outer durability").isEqualTo(1);
                return tx.one("PRAGMA synchronous", level).orElseThrow();
            });
            int after = db.write(tx -> tx.one("PRAGMA synchronous", level).orElseThrow());
            assertThatThrownBy(() -> db.writeUnsynced(tx -> {
                throw new IllegalStateException("rolled back");
            })).hasMessage("rolled back");
            int afterRollback = db.write(tx -> tx.one("PRAGMA synchronous", level).orElseThrow());

            assertThat(during).as("NORMAL").isEqualTo(1);
            assertThat(after).as("FULL").isEqualTo(2);
            assertThat(afterRollback).isEqualTo(2);
            long stored = db.read(tx -> tx.count("SELECT value FROM sequences WHERE name = 's'"));
            assertThat(stored).isEqualTo(1);
        }
    }
}
