package dev.berth.sys.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.ClosedException;
import dev.berth.api.IoFailureException;
import dev.berth.api.FailedPreconditionException;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteDbTest {
    private static final List<SqliteDb.Migration> COUNTERS = List.of(
            tx -> tx.exec("CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"));

    @TempDir
    Path tmp;

    private static SqliteDb open(Path file, List<SqliteDb.Migration> migrations) {
        return SqliteDb.open(file, "test database", Duration.ofSeconds(5), migrations);
    }

    private static long next(SqliteDb.Tx tx) throws SQLException {
        tx.update("INSERT INTO counters(name, value) VALUES ('s', 1) ON CONFLICT(name) DO UPDATE SET value = value + 1");
        return tx.count("SELECT value FROM counters WHERE name = 's'");
    }

    private static String pragma(Path file, String name) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void aDatabaseAtAnOldVersionIsMigratedKeepingItsRows() throws Exception {
        Path file = tmp.resolve("old.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
            st.execute("INSERT INTO counters VALUES ('kept', 7)");
            st.execute("PRAGMA user_version = 1");
        }
        List<SqliteDb.Migration> v2 = List.of(COUNTERS.get(0),
                tx -> tx.exec("ALTER TABLE counters ADD COLUMN note TEXT NOT NULL DEFAULT 'v2'"));

        try (SqliteDb db = open(file, v2)) {
            Optional<String> kept = db.read(tx -> tx.one("SELECT value, note FROM counters WHERE name = 'kept'",
                    rs -> rs.getLong(1) + "/" + rs.getString(2)));
            assertThat(kept).hasValue("7/v2");
        }
        assertThat(pragma(file, "user_version")).isEqualTo("2");
        assertThat(pragma(file, "journal_mode")).isEqualTo("wal");
    }

    @Test
    void anIoFailureInsideWorkRollsBackAndBecomesAnIoFailureException() {
        try (SqliteDb db = open(tmp.resolve("test.db"), COUNTERS)) {
            IOException cause = new IOException("disk on fire");
            assertThatThrownBy(() -> db.write(tx -> {
                next(tx);
                throw cause;
            })).isInstanceOf(IoFailureException.class).hasMessageContaining("test database")
                    .hasMessageContaining("disk on fire").hasCause(cause);
            long rows = db.read(tx -> tx.count("SELECT count(*) FROM counters"));
            assertThat(rows).isZero();
        }
    }
    @Test
    void closedDatabaseThrowsClosedExceptionNamingIt() {
        SqliteDb db = open(tmp.resolve("test.db"), COUNTERS);
        db.close();
        db.close();

        assertThatThrownBy(() -> db.read(tx -> tx.count("SELECT count(*) FROM counters")))
                .isInstanceOf(ClosedException.class).hasMessageContaining("test database")
                .hasMessageEndingWith("is closed");
    }

    @Test
    void databaseWrittenByANewerVersionIsRefusedAndLeftAlone() throws Exception {
        Path file = tmp.resolve("meta.db");
        open(file, COUNTERS).close();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            st.execute("PRAGMA user_version = 99");
        }
        assertThatThrownBy(() -> open(file, COUNTERS))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("schema version 99");
        assertThat(pragma(file, "user_version")).isEqualTo("99");
    }

    @Test
    void pendingMigrationsRunInOrderOnceEach() throws Exception {
        Path file = tmp.resolve("meta.db");
        List<String> ran = new ArrayList<>();
        List<SqliteDb.Migration> first = List.of(tx -> {
            ran.add("v1");
            tx.update("CREATE TABLE t (x INTEGER)");
        });
        open(file, first).close();
        List<SqliteDb.Migration> both = List.of(first.get(0), tx -> {
            ran.add("v2");
            tx.update("ALTER TABLE t ADD COLUMN y TEXT");
        });
        open(file, both).close();
        open(file, both).close();
        assertThat(ran).containsExactly("v1", "v2");
        assertThat(pragma(file, "user_version")).isEqualTo("2");
    }

    @Test
    void failedWorkRollsBackTheWholeTransaction() {
        try (SqliteDb db = open(tmp.resolve("test.db"), COUNTERS)) {
            assertThatThrownBy(() -> db.write(tx -> {
                tx.update("INSERT INTO counters(name, value) VALUES ('a', 1)");
                throw new IllegalStateException("boom");
            })).hasMessage("boom");
            long rows = db.read(tx -> tx.count("SELECT count(*) FROM counters"));
            assertThat(rows).isZero();
        }
    }

    @Test
    void afterCommitActionsWaitForTheOutermostCommit() {
        try (SqliteDb db = open(tmp.resolve("test.db"), COUNTERS)) {
            List<String> ran = new ArrayList<>();
            db.write(tx -> {
                db.write(inner -> {
                    next(inner);
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
        try (SqliteDb db = open(tmp.resolve("test.db"), COUNTERS)) {
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
        try (SqliteDb db = open(tmp.resolve("test.db"), COUNTERS)) {
            List<String> ran = new ArrayList<>();
            long seq = db.write(tx -> {
                db.afterCommit(() -> {
                    throw new IllegalStateException("listener broke");
                });
                db.afterCommit(() -> ran.add("second"));
                return next(tx);
            });
            assertThat(ran).containsExactly("second");
            long stored = db.read(tx -> tx.count("SELECT value FROM counters WHERE name = 's'"));
            assertThat(stored).isEqualTo(seq);
        }
    }

    @Test
    void unsyncedWritesCommitAtNormalSynchronousAndLeaveTheConnectionAtFull() {
        try (SqliteDb db = open(tmp.resolve("test.db"), COUNTERS)) {
            SqliteDb.RowMapper<Integer> level = rs -> rs.getInt(1);
            int during = db.writeUnsynced(tx -> {
                next(tx);
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
            long stored = db.read(tx -> tx.count("SELECT value FROM counters WHERE name = 's'"));
            assertThat(stored).isEqualTo(1);
        }
    }

    @Test
    void writesOfEveryDatabaseInsideAnUnsyncedScopeAreUnsyncedOnThatThreadOnly() throws Exception {
        try (SqliteDb first = open(tmp.resolve("first.db"), COUNTERS);
             SqliteDb second = open(tmp.resolve("second.db"), COUNTERS)) {
            SqliteDb.RowMapper<Integer> level = rs -> rs.getInt(1);
            java.util.concurrent.atomic.AtomicInteger otherThread = new java.util.concurrent.atomic.AtomicInteger();
            int[] inside = SqliteDb.unsyncedWritesOnThisThread(() -> {
                int outer = first.write(tx -> {
                    next(tx);
                    // another database written while the first's transaction is open, as a snapshot backend is
                    return second.write(inner -> {
                        next(inner);
                        return inner.one("PRAGMA synchronous", level).orElseThrow();
                    });
                });
                int nestedScope = SqliteDb.unsyncedWritesOnThisThread(
                        () -> first.write(tx -> tx.one("PRAGMA synchronous", level).orElseThrow()));
                Thread t = new Thread(() -> otherThread.set(
                        second.write(tx -> tx.one("PRAGMA synchronous", level).orElseThrow())));
                t.start();
                try {
                    t.join();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                int stillInside = first.write(tx -> tx.one("PRAGMA synchronous", level).orElseThrow());
                return new int[] {outer, nestedScope, stillInside};
            });
            int afterFirst = first.write(tx -> tx.one("PRAGMA synchronous", level).orElseThrow());
            int afterSecond = second.write(tx -> tx.one("PRAGMA synchronous", level).orElseThrow());

            assertThat(inside).as("NORMAL on both databases, also after a nested scope ended").containsExactly(1, 1, 1);
            assertThat(otherThread.get()).as("another thread's write stays FULL").isEqualTo(2);
            assertThat(afterFirst).as("FULL after the scope").isEqualTo(2);
            assertThat(afterSecond).isEqualTo(2);
            long stored = second.read(tx -> tx.count("SELECT value FROM counters WHERE name = 's'"));
            assertThat(stored).isEqualTo(1);
        }
    }
}
