package dev.berth.metadata.internal;

import dev.berth.sys.sqlite.SqliteDb;
import dev.berth.sys.sqlite.SqliteDb.Tx;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

/**
 * The metadata database: one SQLite file in WAL mode shared by every process using the root, run by
 * Berth's transaction manager ({@link SqliteDb}: {@code BEGIN IMMEDIATE} writes serialized across
 * processes, snapshot reads, nested writes joining the outer one, after-commit and rollback actions).
 *
 * <p>The schema version is SQLite's {@code user_version}; {@link #MIGRATIONS} upgrade it one step at a
 * time when the file is opened, and a file newer than this code is refused rather than misread.
 */
public final class MetaDb implements AutoCloseable {
    /** Schema upgrades; entry {@code i} takes the schema from version {@code i} to {@code i + 1}. */
    static final List<SqliteDb.Migration> MIGRATIONS = List.of(MetaDb::createV1);

    /** The schema version this code writes. */
    public static final int SCHEMA_VERSION = MIGRATIONS.size();

    private final SqliteDb db;

    private MetaDb(SqliteDb db) {
        this.db = db;
    }

    /** Opens (creating if needed) the database, applying pending migrations. */
    public static MetaDb open(Path file, Duration busyTimeout) {
        return new MetaDb(SqliteDb.open(file, "metadata database", busyTimeout, MIGRATIONS));
    }

    private static void createV1(Tx tx) throws SQLException {
        tx.exec("""
                CREATE TABLE namespaces (
                  name       TEXT PRIMARY KEY,
                  labels     TEXT NOT NULL,
                  created_ns INTEGER NOT NULL,
                  updated_ns INTEGER NOT NULL)""");
        tx.exec("""
                CREATE TABLE images (
                  ns           TEXT NOT NULL REFERENCES namespaces(name),
                  name         TEXT NOT NULL,
                  media_type   TEXT NOT NULL,
                  digest       TEXT NOT NULL,
                  size         INTEGER NOT NULL,
                  target_extra TEXT NOT NULL,
                  labels       TEXT NOT NULL,
                  created_ns   INTEGER NOT NULL,
                  updated_ns   INTEGER NOT NULL,
                  PRIMARY KEY (ns, name))""");
        tx.exec("""
                CREATE TABLE containers (
                  ns                   TEXT NOT NULL REFERENCES namespaces(name),
                  id                   TEXT NOT NULL,
                  image                TEXT NOT NULL,
                  runtime_name         TEXT NOT NULL,
                  runtime_options_type TEXT NOT NULL,
                  runtime_options      BLOB NOT NULL,
                  spec                 BLOB NOT NULL,
                  snapshotter          TEXT NOT NULL,
                  snapshot_key         TEXT NOT NULL,
                  labels               TEXT NOT NULL,
                  extensions           TEXT NOT NULL,
                  created_ns           INTEGER NOT NULL,
                  updated_ns           INTEGER NOT NULL,
                  PRIMARY KEY (ns, id))""");
        tx.exec("""
                CREATE TABLE content (
                  ns         TEXT NOT NULL REFERENCES namespaces(name),
                  digest     TEXT NOT NULL,
                  size       INTEGER NOT NULL,
                  labels     TEXT NOT NULL,
                  created_ns INTEGER NOT NULL,
                  updated_ns INTEGER NOT NULL,
                  PRIMARY KEY (ns, digest))""");
        tx.exec("CREATE INDEX content_by_digest ON content(digest)");
        tx.exec("""
                CREATE TABLE snapshots (
                  ns          TEXT NOT NULL REFERENCES namespaces(name),
                  snapshotter TEXT NOT NULL,
                  key         TEXT NOT NULL,
                  backend_key TEXT NOT NULL,
                  parent      TEXT,
                  kind        INTEGER NOT NULL,
                  labels      TEXT NOT NULL,
                  created_ns  INTEGER NOT NULL,
                  updated_ns  INTEGER NOT NULL,
                  PRIMARY KEY (ns, snapshotter, key),
                  UNIQUE (snapshotter, backend_key))""");
        tx.exec("CREATE INDEX snapshots_by_parent ON snapshots(ns, snapshotter, parent)");
        tx.exec("""
                CREATE TABLE leases (
                  ns         TEXT NOT NULL REFERENCES namespaces(name),
                  id         TEXT NOT NULL,
                  labels     TEXT NOT NULL,
                  created_ns INTEGER NOT NULL,
                  PRIMARY KEY (ns, id))""");
        tx.exec("""
                CREATE TABLE lease_resources (
                  ns    TEXT NOT NULL,
                  lease TEXT NOT NULL,
                  type  TEXT NOT NULL,
                  id    TEXT NOT NULL,
                  PRIMARY KEY (ns, lease, type, id),
                  FOREIGN KEY (ns, lease) REFERENCES leases(ns, id) ON DELETE CASCADE) WITHOUT ROWID""");
        tx.exec("""
                CREATE TABLE ingests (
                  ns           TEXT NOT NULL REFERENCES namespaces(name),
                  ref          TEXT NOT NULL,
                  backend_ref  TEXT NOT NULL UNIQUE,
                  expire_at_ns INTEGER,
                  expected     TEXT,
                  created_ns   INTEGER NOT NULL,
                  PRIMARY KEY (ns, ref))""");
        tx.exec("CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    }

    /** Runs {@code work} in a read transaction (joins the thread's open transaction, if any). */
    public <T> T read(SqliteDb.Work<T> work) {
        return db.read(work);
    }

    /** Runs {@code work} in one write transaction; see {@link SqliteDb#write}. */
    public <T> T write(SqliteDb.Work<T> work) {
        return db.write(work);
    }

    /** A write whose commit does not wait for the disk; see {@link SqliteDb#writeUnsynced}. */
    public <T> T writeUnsynced(SqliteDb.Work<T> work) {
        return db.writeUnsynced(work);
    }

    /** Runs {@code action} once the thread's open transaction has committed (at once when none is open). */
    void afterCommit(Runnable action) {
        db.afterCommit(action);
    }

    /** Runs {@code action} if the thread's open transaction rolls back (a backend snapshot made for a record not kept). */
    void onRollback(Runnable action) {
        db.onRollback(action);
    }

    /** Whether this thread is inside a transaction (callers must not block on other processes then). */
    boolean inTransaction() {
        return db.inTransaction();
    }

    /** The next value of a named counter, starting at 1; never reused. */
    static long nextSequence(Tx tx, String name) throws SQLException {
        tx.update("INSERT INTO sequences(name, value) VALUES (?, 1)"
                + " ON CONFLICT(name) DO UPDATE SET value = value + 1", name);
        return tx.count("SELECT value FROM sequences WHERE name = ?", name);
    }

    public Path file() {
        return db.file();
    }

    /** Closes the database; idempotent. Waits for running transactions. */
    @Override
    public void close() {
        db.close();
    }
}
