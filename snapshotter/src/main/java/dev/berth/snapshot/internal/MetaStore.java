package dev.berth.snapshot.internal;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.BerthException;
import dev.berth.api.UnavailableException;
import dev.berth.api.snapshot.Kind;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Snapshot records in one SQLite file (WAL mode), shared safely by every process using the root: writes
 * run in {@code BEGIN IMMEDIATE} transactions, which SQLite serializes across processes, and readers
 * see a consistent snapshot of committed data. Numeric ids come from {@code AUTOINCREMENT}, so an id
 * that was ever committed is never handed out again (the directory of a removed snapshot may still be
 * waiting for {@code cleanup}).
 *
 * <p>One connection per store, used under a lock: thread-safe, one statement at a time.
 */
public final class MetaStore implements AutoCloseable {
    private static final int SCHEMA_VERSION = 1;
    private static final int SQLITE_BUSY = 5;
    private static final int SQLITE_LOCKED = 6;
    private static final int SQLITE_CONSTRAINT = 19;

    /** One snapshot row; {@code parentKey} is resolved through the parent's id. */
    public record Row(long id, String key, Long parentId, String parentKey, Kind kind, Map<String, String> labels,
                      Instant created, Instant updated, long inodes, long size) {
    }

    /** Work done inside one transaction. */
    @FunctionalInterface
    public interface TxWork<T> {
        T run(Tx tx) throws Exception;
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Path file;
    private Connection conn;

    public MetaStore(Path file, Duration busyTimeout) {
        this.file = file;
        try {
            conn = DriverManager.getConnection("jdbc:sqlite:" + file);
            try (Statement st = conn.createStatement()) {
                st.execute("PRAGMA busy_timeout = " + Math.max(0, busyTimeout.toMillis()));
                st.execute("PRAGMA foreign_keys = ON");
                st.execute("PRAGMA journal_mode = WAL");
                st.execute("PRAGMA synchronous = FULL");
            }
            write(tx -> {
                tx.createSchema();
                return null;
            });
        } catch (SQLException e) {
            closeQuietly();
            throw translate("open " + file, e);
        } catch (RuntimeException e) {
            closeQuietly();
            throw e;
        }
    }

    /** Runs {@code work} in a read transaction (a consistent view; never blocks writers in WAL mode). */
    public <T> T read(TxWork<T> work) {
        return inTransaction("BEGIN DEFERRED", work);
    }

    /** Runs {@code work} in a write transaction, waiting up to the busy timeout for other writers. */
    public <T> T write(TxWork<T> work) {
        return inTransaction("BEGIN IMMEDIATE", work);
    }

    private <T> T inTransaction(String begin, TxWork<T> work) {
        lock.lock();
        try {
            if (conn == null) {
                throw new IllegalStateException("snapshot metadata " + file + " is closed");
            }
            try (Statement st = conn.createStatement()) {
                st.execute(begin);
            } catch (SQLException e) {
                throw translate("begin transaction on " + file, e);
            }
            boolean committed = false;
            try {
                T result = work.run(new Tx());
                try (Statement st = conn.createStatement()) {
                    st.execute("COMMIT");
                }
                committed = true;
                return result;
            } catch (SQLException e) {
                throw translate("snapshot metadata " + file, e);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new BerthException("snapshot metadata " + file + ": " + e.getMessage(), e);
            } finally {
                if (!committed) {
                    try (Statement st = conn.createStatement()) {
                        st.execute("ROLLBACK");
                    } catch (SQLException ignored) {
                        // No transaction left to roll back (e.g. COMMIT failed and SQLite ended it).
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    static BerthException translate(String what, SQLException e) {
        int code = e.getErrorCode() & 0xff;
        if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
            return new UnavailableException(what + ": database is busy (another process holds it too long)", e);
        }
        if (code == SQLITE_CONSTRAINT && String.valueOf(e.getMessage()).contains("UNIQUE")) {
            return new AlreadyExistsException(what + ": " + e.getMessage(), e);
        }
        return new BerthException(what + ": " + e.getMessage(), e);
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closeQuietly();
        } finally {
            lock.unlock();
        }
    }

    private void closeQuietly() {
        if (conn != null) {
            try {
                conn.close();
            } catch (SQLException ignored) {
                // Closing a read-only or already broken connection loses nothing.
            }
            conn = null;
        }
    }

    /** Statements available inside a transaction. */
    public final class Tx {
        private Tx() {
        }

        void createSchema() throws SQLException {
            try (Statement st = conn.createStatement()) {
                st.execute("""
                        CREATE TABLE IF NOT EXISTS snapshots (
                          id         INTEGER PRIMARY KEY AUTOINCREMENT,
                          key        TEXT    NOT NULL UNIQUE,
                          parent_id  INTEGER REFERENCES snapshots(id) ON DELETE RESTRICT,
                          kind       INTEGER NOT NULL,
                          created_ns INTEGER NOT NULL,
                          updated_ns INTEGER NOT NULL,
                          inodes     INTEGER NOT NULL DEFAULT 0,
                          size       INTEGER NOT NULL DEFAULT 0)""");
                st.execute("CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent_id)");
                st.execute("""
                        CREATE TABLE IF NOT EXISTS labels (
                          snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
                          key         TEXT    NOT NULL,
                          value       TEXT    NOT NULL,
                          PRIMARY KEY (snapshot_id, key)) WITHOUT ROWID""");
                try (ResultSet rs = st.executeQuery("PRAGMA user_version")) {
                    int v = rs.next() ? rs.getInt(1) : 0;
                    if (v > SCHEMA_VERSION) {
                        throw new BerthException("snapshot metadata " + file + " has schema version " + v
                                + "; this Berth understands up to " + SCHEMA_VERSION);
                    }
                }
                st.execute("PRAGMA user_version = " + SCHEMA_VERSION);
            }
        }

        private static final String SELECT = "SELECT s.id, s.key, s.parent_id, p.key, s.kind, s.created_ns,"
                + " s.updated_ns, s.inodes, s.size FROM snapshots s LEFT JOIN snapshots p ON p.id = s.parent_id";

        public Optional<Row> get(String key) throws SQLException {
            try (PreparedStatement ps = conn.prepareStatement(SELECT + " WHERE s.key = ?")) {
                ps.setString(1, key);
                List<Row> rows = rows(ps);
                return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
            }
        }

        public List<Row> all() throws SQLException {
            try (PreparedStatement ps = conn.prepareStatement(SELECT + " ORDER BY s.id")) {
                return rows(ps);
            }
        }

        private List<Row> rows(PreparedStatement ps) throws SQLException {
            List<Row> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    long pid = rs.getLong(3);
                    Long parentId = rs.wasNull() ? null : pid;
                    out.add(new Row(id, rs.getString(2), parentId, rs.getString(4), kindOf(rs.getInt(5)),
                            Map.of(), instant(rs.getLong(6)), instant(rs.getLong(7)), rs.getLong(8),
                            rs.getLong(9)));
                }
            }
            if (out.isEmpty()) {
                return out;
            }
            Map<Long, Map<String, String>> labels = out.size() == 1 ? Map.of(out.get(0).id(), labels(out.get(0).id()))
                    : allLabels();
            List<Row> withLabels = new ArrayList<>(out.size());
            for (Row r : out) {
                withLabels.add(new Row(r.id(), r.key(), r.parentId(), r.parentKey(), r.kind(),
                        labels.getOrDefault(r.id(), Map.of()), r.created(), r.updated(), r.inodes(), r.size()));
            }
            return withLabels;
        }

        private Map<String, String> labels(long id) throws SQLException {
            Map<String, String> m = new TreeMap<>();
            try (PreparedStatement ps = conn.prepareStatement("SELECT key, value FROM labels WHERE snapshot_id = ?")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        m.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            return m;
        }

        private Map<Long, Map<String, String>> allLabels() throws SQLException {
            Map<Long, Map<String, String>> m = new HashMap<>();
            try (PreparedStatement ps = conn.prepareStatement("SELECT snapshot_id, key, value FROM labels");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    m.computeIfAbsent(rs.getLong(1), k -> new TreeMap<>()).put(rs.getString(2), rs.getString(3));
                }
            }
            return m;
        }

        /** Ids of the chain starting at {@code id} and following parents: {@code id} first. */
        public List<Long> chain(long id) throws SQLException {
            List<Long> out = new ArrayList<>();
            try (PreparedStatement ps = conn.prepareStatement("""
                    WITH RECURSIVE c(id, parent_id, depth) AS (
                      SELECT id, parent_id, 0 FROM snapshots WHERE id = ?
                      UNION ALL
                      SELECT s.id, s.parent_id, c.depth + 1 FROM snapshots s JOIN c ON s.id = c.parent_id)
                    SELECT id FROM c ORDER BY depth""")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getLong(1));
                    }
                }
            }
            return out;
        }

        public boolean hasChildren(long id) throws SQLException {
            try (PreparedStatement ps = conn.prepareStatement("SELECT 1 FROM snapshots WHERE parent_id = ? LIMIT 1")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            }
        }

        public List<Long> ids() throws SQLException {
            List<Long> out = new ArrayList<>();
            try (PreparedStatement ps = conn.prepareStatement("SELECT id FROM snapshots");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getLong(1));
                }
            }
            return out;
        }

        public long insert(String key, Long parentId, Kind kind, Map<String, String> labels, Instant now)
                throws SQLException {
            long id;
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO snapshots (key, parent_id, kind,"
                    + " created_ns, updated_ns) VALUES (?, ?, ?, ?, ?) RETURNING id")) {
                ps.setString(1, key);
                if (parentId == null) {
                    ps.setNull(2, Types.INTEGER);
                } else {
                    ps.setLong(2, parentId);
                }
                ps.setInt(3, kind.number());
                ps.setLong(4, nanos(now));
                ps.setLong(5, nanos(now));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            putLabels(id, labels);
            return id;
        }

        /** Turns a row into the committed snapshot {@code name}: same id, new times, labels replaced. */
        public void commit(long id, String name, Map<String, String> labels, long inodes, long size, Instant now)
                throws SQLException {
            try (PreparedStatement ps = conn.prepareStatement("UPDATE snapshots SET key = ?, kind = ?,"
                    + " created_ns = ?, updated_ns = ?, inodes = ?, size = ? WHERE id = ?")) {
                ps.setString(1, name);
                ps.setInt(2, Kind.COMMITTED.number());
                ps.setLong(3, nanos(now));
                ps.setLong(4, nanos(now));
                ps.setLong(5, inodes);
                ps.setLong(6, size);
                ps.setLong(7, id);
                ps.executeUpdate();
            }
            replaceLabels(id, labels);
        }

        public void updateLabels(long id, Map<String, String> labels, Instant now) throws SQLException {
            try (PreparedStatement ps = conn.prepareStatement("UPDATE snapshots SET updated_ns = ? WHERE id = ?")) {
                ps.setLong(1, nanos(now));
                ps.setLong(2, id);
                ps.executeUpdate();
            }
            replaceLabels(id, labels);
        }

        public void delete(long id) throws SQLException {
            try (PreparedStatement ps = conn.prepareStatement("DELETE FROM snapshots WHERE id = ?")) {
                ps.setLong(1, id);
                ps.executeUpdate();
            }
        }

        private void replaceLabels(long id, Map<String, String> labels) throws SQLException {
            try (PreparedStatement ps = conn.prepareStatement("DELETE FROM labels WHERE snapshot_id = ?")) {
                ps.setLong(1, id);
                ps.executeUpdate();
            }
            putLabels(id, labels);
        }

        private void putLabels(long id, Map<String, String> labels) throws SQLException {
            if (labels.isEmpty()) {
                return;
            }
            try (PreparedStatement ps = conn.prepareStatement(
                    "INSERT INTO labels (snapshot_id, key, value) VALUES (?, ?, ?)")) {
                for (Map.Entry<String, String> e : new LinkedHashMap<>(labels).entrySet()) {
                    ps.setLong(1, id);
                    ps.setString(2, e.getKey());
                    ps.setString(3, e.getValue());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
    }

    private static Kind kindOf(int n) {
        for (Kind k : Kind.values()) {
            if (k.number() == n) {
                return k;
            }
        }
        return Kind.UNKNOWN;
    }

    private static long nanos(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000_000L), t.getNano());
    }

    private static Instant instant(long nanos) {
        return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
    }
}
