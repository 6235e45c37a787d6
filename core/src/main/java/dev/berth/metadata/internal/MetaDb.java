package dev.berth.metadata.internal;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.BerthException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.UnavailableException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metadata database: one SQLite file in WAL mode shared by every process using the root. Each
 * mutation runs in one {@code BEGIN IMMEDIATE} transaction, which SQLite serializes across processes;
 * reads run in deferred transactions on a second connection and see a consistent snapshot without
 * waiting for writers. A write started inside another write on the same thread joins it.
 *
 * <p>The schema version is SQLite's {@code user_version}; {@link #MIGRATIONS} upgrade it one step at a
 * time when the file is opened, and a file newer than this code is refused rather than misread.
 */
public final class MetaDb implements AutoCloseable {
    private static final int SQLITE_BUSY = 5;
    private static final int SQLITE_LOCKED = 6;
    private static final int SQLITE_CONSTRAINT = 19;

    /** One schema upgrade, from version {@code index} to {@code index + 1}. */
    @FunctionalInterface
    public interface Migration {
        void apply(Tx tx) throws SQLException;
    }

    /** Work inside a transaction. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Tx tx) throws SQLException;
    }

    /** Schema upgrades; entry {@code i} takes the schema from version {@code i} to {@code i + 1}. */
    static final List<Migration> MIGRATIONS = List.of(MetaDb::createV1);

    /** The schema version this code writes. */
    public static final int SCHEMA_VERSION = MIGRATIONS.size();

    private static final Logger LOG = LoggerFactory.getLogger(MetaDb.class);

    private final Path file;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ReentrantLock readLock = new ReentrantLock();
    private final ThreadLocal<Tx> current = new ThreadLocal<>();
    private Connection writeConn;
    private Connection readConn;

    private MetaDb(Path file) {
        this.file = file;
    }

    /** Opens (creating if needed) the database, applying pending migrations. */
    public static MetaDb open(Path file, Duration busyTimeout) {
        return open(file, busyTimeout, MIGRATIONS);
    }

    static MetaDb open(Path file, Duration busyTimeout, List<Migration> migrations) {
        MetaDb db = new MetaDb(file);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            db.writeConn = connect(file, busyTimeout);
            db.readConn = connect(file, busyTimeout);
            db.migrate(migrations);
            return db;
        } catch (SQLException e) {
            db.close();
            throw translate("open " + file, e);
        } catch (java.io.IOException e) {
            db.close();
            throw new BerthException("cannot create the directory of " + file + ": " + e, e);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    private static Connection connect(Path file, Duration busyTimeout) throws SQLException {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        try (Statement st = c.createStatement()) {
            st.execute("PRAGMA busy_timeout = " + Math.max(0, Math.min(Integer.MAX_VALUE, busyTimeout.toMillis())));
            st.execute("PRAGMA journal_mode = WAL");
            st.execute("PRAGMA synchronous = FULL");
            st.execute("PRAGMA foreign_keys = ON");
        }
        return c;
    }

    private void migrate(List<Migration> migrations) {
        write(tx -> {
            int version;
            try (Statement st = tx.conn.createStatement(); ResultSet rs = st.executeQuery("PRAGMA user_version")) {
                version = rs.next() ? rs.getInt(1) : 0;
            }
            if (version > migrations.size()) {
                throw new FailedPreconditionException("metadata database " + file + " has schema version " + version
                        + "; this Berth understands versions up to " + migrations.size()
                        + " (it was written by a newer Berth)");
            }
            for (int v = version; v < migrations.size(); v++) {
                migrations.get(v).apply(tx);
            }
            if (version != migrations.size()) {
                try (Statement st = tx.conn.createStatement()) {
                    st.execute("PRAGMA user_version = " + migrations.size());
                }
            }
            return null;
        });
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
    public <T> T read(Work<T> work) {
        Tx open = current.get();
        if (open != null) {
            return run(open, work);
        }
        return inTransaction(readLock, readConn, false, work);
    }

    /**
     * Runs {@code work} in one write transaction, waiting (up to the busy timeout) for other processes'
     * writers. Nested calls on the same thread join the outer write.
     */
    public <T> T write(Work<T> work) {
        return write(work, true);
    }

    /**
     * As {@link #write}, but the commit does not wait for the disk (SQLite's {@code synchronous=NORMAL}
     * for this transaction): the database stays consistent, and the change survives a crash of this
     * process, but a power loss before the next synced commit or checkpoint may roll it back. Every later
     * synced commit makes it durable too (the log is written in order). Nested calls join the outer
     * transaction, with its durability.
     */
    public <T> T writeUnsynced(Work<T> work) {
        return write(work, false);
    }

    private <T> T write(Work<T> work, boolean synced) {
        Tx open = current.get();
        if (open != null) {
            if (!open.writable) {
                throw new IllegalStateException("write requested inside a read transaction on " + file);
            }
            return run(open, work);
        }
        if (synced) {
            return inTransaction(writeLock, writeConn, true, work);
        }
        writeLock.lock(); // held across the three statements: no other writer runs at NORMAL meanwhile
        try {
            synchronous(writeConn, "NORMAL");
            RuntimeException failed = null;
            try {
                return inTransaction(writeLock, writeConn, true, work);
            } catch (RuntimeException e) {
                failed = e;
                throw e;
            } finally {
                try {
                    synchronous(writeConn, "FULL");
                } catch (RuntimeException e) {
                    if (failed == null) {
                        throw e; // never leave later writes unsynced without saying so
                    }
                    failed.addSuppressed(e);
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    private void synchronous(Connection conn, String level) {
        if (conn == null) {
            throw new IllegalStateException("metadata database " + file + " is closed");
        }
        try (Statement st = conn.createStatement()) {
            st.execute("PRAGMA synchronous = " + level);
        } catch (SQLException e) {
            throw translate("set synchronous = " + level + " on " + file, e);
        }
    }

    /**
     * Runs {@code action} once the thread's open transaction has committed (at once when none is open):
     * events and collection triggers of changes that may still roll back wait for the outcome.
     */
    void afterCommit(Runnable action) {
        Tx open = current.get();
        if (open == null) {
            action.run();
        } else {
            open.afterCommit.add(action);
        }
    }

    /**
     * Runs {@code action} if the thread's open transaction rolls back: undoes what was done outside this
     * database (a backend snapshot made for a record that is not kept). Nothing happens without one.
     */
    void onRollback(Runnable action) {
        Tx open = current.get();
        if (open != null) {
            open.onRollback.add(action);
        }
    }

    /** Whether this thread is inside a transaction (callers must not block on other processes then). */
    boolean inTransaction() {
        return current.get() != null;
    }

    private <T> T run(Tx tx, Work<T> work) {
        try {
            return work.run(tx);
        } catch (SQLException e) {
            throw translate("metadata " + file, e);
        }
    }

    private <T> T inTransaction(ReentrantLock lock, Connection conn, boolean writable, Work<T> work) {
        Tx tx = null;
        boolean committed = false;
        lock.lock();
        try {
            if (conn == null) {
                throw new IllegalStateException("metadata database " + file + " is closed");
            }
            try (Statement st = conn.createStatement()) {
                st.execute(writable ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
            } catch (SQLException e) {
                throw translate("begin a transaction on " + file, e);
            }
            tx = new Tx(conn, writable);
            current.set(tx);
            try {
                T result = work.run(tx);
                try (Statement st = conn.createStatement()) {
                    st.execute("COMMIT");
                }
                committed = true;
                return result;
            } catch (SQLException e) {
                throw translate("metadata " + file, e);
            } finally {
                current.remove();
                if (!committed) {
                    try (Statement st = conn.createStatement()) {
                        st.execute("ROLLBACK");
                    } catch (SQLException ignored) {
                        // SQLite already ended the transaction (a failed COMMIT does that).
                    }
                }
            }
        } finally {
            lock.unlock();
            // outside the lock: listeners and cleanups must not hold up other writers
            if (tx != null) {
                runAll(committed ? tx.afterCommit : tx.onRollback, committed ? "after commit" : "on rollback");
            }
        }
    }

    private void runAll(List<Runnable> actions, String when) {
        for (Runnable action : actions) {
            try {
                action.run();
            } catch (RuntimeException e) {
                LOG.warn("{}: an action {} failed: {}", file, when, e.toString());
            }
        }
    }

    static BerthException translate(String what, SQLException e) {
        int code = e.getErrorCode() & 0xff;
        if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
            return new UnavailableException(what + ": the database stayed locked by another process", e);
        }
        if (code == SQLITE_CONSTRAINT && String.valueOf(e.getMessage()).contains("UNIQUE")) {
            return new AlreadyExistsException(what + ": " + e.getMessage(), e);
        }
        return new BerthException(what + ": " + e.getMessage(), e);
    }

    public Path file() {
        return file;
    }

    /** Closes both connections; idempotent. Waits for running transactions. */
    @Override
    public void close() {
        writeLock.lock();
        try {
            writeConn = closeQuietly(writeConn);
        } finally {
            writeLock.unlock();
        }
        readLock.lock();
        try {
            readConn = closeQuietly(readConn);
        } finally {
            readLock.unlock();
        }
    }

    private static Connection closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // nothing left to save on a connection being dropped
            }
        }
        return null;
    }

    /** Row mapper. */
    @FunctionalInterface
    public interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    /** Statements inside one transaction. Not thread-safe; valid only inside its {@code Work}. */
    public static final class Tx {
        private final Connection conn;
        private final boolean writable;
        private final List<Runnable> afterCommit = new ArrayList<>();
        private final List<Runnable> onRollback = new ArrayList<>();

        private Tx(Connection conn, boolean writable) {
            this.conn = conn;
            this.writable = writable;
        }

        void exec(String sql) throws SQLException {
            try (Statement st = conn.createStatement()) {
                st.execute(sql);
            }
        }

        /** Runs an INSERT/UPDATE/DELETE; returns the number of rows changed. */
        public int update(String sql, Object... args) throws SQLException {
            if (!writable) {
                throw new IllegalStateException("update in a read transaction: " + sql);
            }
            try (PreparedStatement ps = prepare(sql, args)) {
                return ps.executeUpdate();
            }
        }

        public <T> List<T> query(String sql, RowMapper<T> mapper, Object... args) throws SQLException {
            try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
                List<T> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(mapper.map(rs));
                }
                return out;
            }
        }

        public <T> Optional<T> one(String sql, RowMapper<T> mapper, Object... args) throws SQLException {
            try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.ofNullable(mapper.map(rs)) : Optional.empty();
            }
        }

        public boolean exists(String sql, Object... args) throws SQLException {
            try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }

        public long count(String sql, Object... args) throws SQLException {
            try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }

        /** The next value of a named counter, starting at 1; never reused. */
        public long nextSequence(String name) throws SQLException {
            update("INSERT INTO sequences(name, value) VALUES (?, 1)"
                    + " ON CONFLICT(name) DO UPDATE SET value = value + 1", name);
            return count("SELECT value FROM sequences WHERE name = ?", name);
        }

        private PreparedStatement prepare(String sql, Object... args) throws SQLException {
            PreparedStatement ps = conn.prepareStatement(sql);
            try {
                for (int i = 0; i < args.length; i++) {
                    Object a = args[i];
                    if (a == null) {
                        ps.setNull(i + 1, java.sql.Types.NULL);
                    } else if (a instanceof byte[] b) {
                        ps.setBytes(i + 1, b);
                    } else if (a instanceof Long || a instanceof Integer) {
                        ps.setLong(i + 1, ((Number) a).longValue());
                    } else {
                        ps.setString(i + 1, a.toString());
                    }
                }
                return ps;
            } catch (SQLException | RuntimeException e) {
                ps.close();
                throw e;
            }
        }
    }
}
