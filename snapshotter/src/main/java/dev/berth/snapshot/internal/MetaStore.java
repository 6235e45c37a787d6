package dev.berth.snapshot.internal;

import dev.berth.api.snapshot.Kind;
import dev.berth.sys.sqlite.SqliteDb;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Snapshot records in one SQLite file (WAL mode), shared safely by every process using the root through
 * Berth's transaction manager ({@link SqliteDb}): writes run in {@code BEGIN IMMEDIATE} transactions,
 * which SQLite serializes across processes, and readers see a consistent snapshot of committed data.
 * Numeric ids come from {@code AUTOINCREMENT}, so an id that was ever committed is never handed out
 * again (the directory of a removed snapshot may still be waiting for {@code cleanup}).
 *
 * <p>The schema version is SQLite's {@code user_version}, upgraded by {@link #MIGRATIONS} in order.
 */
public final class MetaStore implements AutoCloseable {
    /** Schema upgrades; entry {@code i} takes the schema from version {@code i} to {@code i + 1}. */
    static final List<SqliteDb.Migration> MIGRATIONS = List.of(MetaStore::createV1);

    /** One snapshot row; {@code parentKey} is resolved through the parent's id. */
    public record Row(long id, String key, Long parentId, String parentKey, Kind kind, Map<String, String> labels,
                      Instant created, Instant updated, long inodes, long size) {
    }

    /** Work done inside one transaction. */
    @FunctionalInterface
    public interface TxWork<T> {
        T run(Tx tx) throws Exception;
    }

    private final SqliteDb db;

    public MetaStore(Path file, Duration busyTimeout) {
        this.db = SqliteDb.open(file, "snapshot metadata", busyTimeout, MIGRATIONS);
    }

    private static void createV1(SqliteDb.Tx tx) throws SQLException {
        // IF NOT EXISTS: files made before the schema was versioned by migrations already have them
        tx.exec("""
                CREATE TABLE IF NOT EXISTS snapshots (
                  id         INTEGER PRIMARY KEY AUTOINCREMENT,
                  key        TEXT    NOT NULL UNIQUE,
                  parent_id  INTEGER REFERENCES snapshots(id) ON DELETE RESTRICT,
                  kind       INTEGER NOT NULL,
                  created_ns INTEGER NOT NULL,
                  updated_ns INTEGER NOT NULL,
                  inodes     INTEGER NOT NULL DEFAULT 0,
                  size       INTEGER NOT NULL DEFAULT 0)""");
        tx.exec("CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent_id)");
        tx.exec("""
                CREATE TABLE IF NOT EXISTS labels (
                  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
                  key         TEXT    NOT NULL,
                  value       TEXT    NOT NULL,
                  PRIMARY KEY (snapshot_id, key)) WITHOUT ROWID""");
    }

    /** Runs {@code work} in a read transaction (a consistent view; never blocks writers in WAL mode). */
    public <T> T read(TxWork<T> work) {
        return db.read(tx -> work.run(new Tx(tx)));
    }

    /** Runs {@code work} in a write transaction, waiting up to the busy timeout for other writers. */
    public <T> T write(TxWork<T> work) {
        return db.write(tx -> work.run(new Tx(tx)));
    }

    @Override
    public void close() {
        db.close();
    }

    /** Statements available inside a transaction. */
    public static final class Tx {
        private static final String SELECT = "SELECT s.id, s.key, s.parent_id, p.key, s.kind, s.created_ns,"
                + " s.updated_ns, s.inodes, s.size FROM snapshots s LEFT JOIN snapshots p ON p.id = s.parent_id";

        private final SqliteDb.Tx sql;

        private Tx(SqliteDb.Tx sql) {
            this.sql = sql;
        }

        public Optional<Row> get(String key) throws SQLException {
            List<Row> rows = withLabels(sql.query(SELECT + " WHERE s.key = ?", Tx::row, key));
            return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
        }

        public List<Row> all() throws SQLException {
            return withLabels(sql.query(SELECT + " ORDER BY s.id", Tx::row));
        }

        private static Row row(ResultSet rs) throws SQLException {
            long pid = rs.getLong(3);
            Long parentId = rs.wasNull() ? null : pid;
            return new Row(rs.getLong(1), rs.getString(2), parentId, rs.getString(4), kindOf(rs.getInt(5)),
                    Map.of(), instant(rs.getLong(6)), instant(rs.getLong(7)), rs.getLong(8), rs.getLong(9));
        }

        private List<Row> withLabels(List<Row> out) throws SQLException {
            if (out.isEmpty()) {
                return out;
            }
            Map<Long, Map<String, String>> labels = out.size() == 1
                    ? Map.of(out.get(0).id(), labels(out.get(0).id())) : allLabels();
            List<Row> withLabels = new ArrayList<>(out.size());
            for (Row r : out) {
                withLabels.add(new Row(r.id(), r.key(), r.parentId(), r.parentKey(), r.kind(),
                        labels.getOrDefault(r.id(), Map.of()), r.created(), r.updated(), r.inodes(), r.size()));
            }
            return withLabels;
        }

        private Map<String, String> labels(long id) throws SQLException {
            Map<String, String> m = new TreeMap<>();
            for (String[] kv : sql.query("SELECT key, value FROM labels WHERE snapshot_id = ?",
                    rs -> new String[] {rs.getString(1), rs.getString(2)}, id)) {
                m.put(kv[0], kv[1]);
            }
            return m;
        }

        private Map<Long, Map<String, String>> allLabels() throws SQLException {
            Map<Long, Map<String, String>> m = new HashMap<>();
            sql.query("SELECT snapshot_id, key, value FROM labels", rs -> m.computeIfAbsent(rs.getLong(1),
                    k -> new TreeMap<>()).put(rs.getString(2), rs.getString(3)));
            return m;
        }

        /** Ids of the chain starting at {@code id} and following parents: {@code id} first. */
        public List<Long> chain(long id) throws SQLException {
            return sql.query("""
                    WITH RECURSIVE c(id, parent_id, depth) AS (
                      SELECT id, parent_id, 0 FROM snapshots WHERE id = ?
                      UNION ALL
                      SELECT s.id, s.parent_id, c.depth + 1 FROM snapshots s JOIN c ON s.id = c.parent_id)
                    SELECT id FROM c ORDER BY depth""", rs -> rs.getLong(1), id);
        }

        public boolean hasChildren(long id) throws SQLException {
            return sql.exists("SELECT 1 FROM snapshots WHERE parent_id = ? LIMIT 1", id);
        }

        public List<Long> ids() throws SQLException {
            return sql.query("SELECT id FROM snapshots", rs -> rs.getLong(1));
        }

        public long insert(String key, Long parentId, Kind kind, Map<String, String> labels, Instant now)
                throws SQLException {
            long id = sql.count("INSERT INTO snapshots (key, parent_id, kind, created_ns, updated_ns)"
                    + " VALUES (?, ?, ?, ?, ?) RETURNING id", key, parentId, kind.number(), nanos(now), nanos(now));
            putLabels(id, labels);
            return id;
        }

        /** Turns a row into the committed snapshot {@code name}: same id, new times, labels replaced. */
        public void commit(long id, String name, Map<String, String> labels, long inodes, long size, Instant now)
                throws SQLException {
            sql.update("UPDATE snapshots SET key = ?, kind = ?, created_ns = ?, updated_ns = ?, inodes = ?, size = ?"
                    + " WHERE id = ?", name, Kind.COMMITTED.number(), nanos(now), nanos(now), inodes, size, id);
            replaceLabels(id, labels);
        }

        public void updateLabels(long id, Map<String, String> labels, Instant now) throws SQLException {
            sql.update("UPDATE snapshots SET updated_ns = ? WHERE id = ?", nanos(now), id);
            replaceLabels(id, labels);
        }

        public void delete(long id) throws SQLException {
            sql.update("DELETE FROM snapshots WHERE id = ?", id);
        }

        private void replaceLabels(long id, Map<String, String> labels) throws SQLException {
            sql.update("DELETE FROM labels WHERE snapshot_id = ?", id);
            putLabels(id, labels);
        }

        private void putLabels(long id, Map<String, String> labels) throws SQLException {
            if (labels.isEmpty()) {
                return;
            }
            try (PreparedStatement ps = sql.prepare("INSERT INTO labels (snapshot_id, key, value) VALUES (?, ?, ?)")) {
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
