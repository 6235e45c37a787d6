package dev.berth.sys.sqlite;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.BerthException;
import dev.berth.api.ClosedException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.IoFailureException;
import dev.berth.api.UnavailableException;
import java.io.IOException;
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
 * One SQLite file in WAL mode shared by every process using it: Berth's one transaction manager. Each
 * mutation runs in one {@code BEGIN IMMEDIATE} transaction, which SQLite serializes across processes
 * (waiting up to the busy timeout); reads run in deferred transactions on a second connection and see a
 * consistent snapshot without waiting for writers. A read or write started inside a write on the same
 * thread joins it. Actions can wait for the outcome of the thread's transaction ({@link #afterCommit},
 * {@link #onRollback}).
 *
 * <p>The schema version is SQLite's {@code user_version}: migration {@code i} takes the schema from
 * version {@code i} to {@code i + 1}, applied in order in one transaction when the file is opened, and a
 * file newer than the code is refused rather than misread.
 */
public final class SqliteDb implements AutoCloseable {
    private static final int SQLITE_BUSY = 5;
    private static final int SQLITE_LOCKED = 6;
    private static final int SQLITE_CONSTRAINT = 19;
    private static final Logger LOG = LoggerFactory.getLogger(SqliteDb.class);

    /** One schema upgrade, from version {@code index} to {@code index + 1}. */
    @FunctionalInterface
    public interface Migration {
        void apply(Tx tx) throws SQLException;
    }

    /** Work inside a transaction. A checked exception other than SQLException becomes a BerthException. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Tx tx) throws Exception;
    }

    /** Row mapper. */
    @FunctionalInterface
    public interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private final Path file;
    private final String name;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ReentrantLock readLock = new ReentrantLock();
    private final ThreadLocal<Tx> current = new ThreadLocal<>();
    /** Set on a thread inside {@link #unsyncedWritesOnThisThread}: its writes to any database are unsynced. */
    private static final ThreadLocal<Boolean> UNSYNCED_SCOPE = new ThreadLocal<>();
    private Connection writeConn;
    private Connection readConn;

    private SqliteDb(Path file, String name) {
        this.file = file;
        this.name = name;
    }

    /**
     * Opens (creating if needed) the database and applies pending {@code migrations}.
     *
     * @param name what the database is called in errors, e.g. "metadata database"
     * @throws FailedPreconditionException if the file's schema is newer than {@code migrations}
     */
    public static SqliteDb open(Path file, String name, Duration busyTimeout, List<Migration> migrations) {
        SqliteDb db = new SqliteDb(file, name);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            NativeLibraryCache.use(file.toAbsolutePath().getParent());
            createPrivate(file);
            db.writeConn = connect(file, busyTimeout);
            db.readConn = connect(file, busyTimeout);
            db.migrate(migrations);
            return db;
        } catch (SQLException e) {
            db.close();
            throw translate("open " + file, e);
        } catch (IOException e) {
            db.close();
            throw IoFailureException.of("cannot create " + file + " or its directory", e);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /**
     * Creates the database file with mode 0600 unless it exists: SQLite would create it 0644 less the umask
     * (0666 under umask 000), and it gives the WAL and shared-memory files the database file's mode.
     */
    private static void createPrivate(Path file) throws IOException {
        try {
            Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // opened as it is
        }
    }

    private static Connection connect(Path file, Duration busyTimeout) throws SQLException {
        // The driver directly, not through DriverManager: its first use looks for java.sql.Driver services in
        // every jar of the class path (opening each one), which cost a short CLI call ~30 ms and a test JVM
        // with a long class path more. -Dberth.sqlite.driverManager=true connects through it (A/B).
        Connection c = Boolean.getBoolean("berth.sqlite.driverManager")
                ? DriverManager.getConnection("jdbc:sqlite:" + file)
                : org.sqlite.JDBC.createConnection("jdbc:sqlite:" + file, new java.util.Properties());
        try (Statement st = c.createStatement()) {
            st.execute("PRAGMA busy_timeout = " + Math.max(0, Math.min(Integer.MAX_VALUE, busyTimeout.toMillis())));
            st.execute("PRAGMA journal_mode = WAL");
            st.execute("PRAGMA synchronous = FULL");
            st.execute("PRAGMA foreign_keys = ON");
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void migrate(List<Migration> migrations) {
        write(tx -> {
            int version = (int) tx.count("PRAGMA user_version");
            if (version > migrations.size()) {
                throw new FailedPreconditionException(name + " " + file + " has schema version " + version
                        + "; this Berth understands versions up to " + migrations.size()
                        + " (it was written by a newer Berth)");
            }
            for (int v = version; v < migrations.size(); v++) {
                migrations.get(v).apply(tx);
            }
            if (version != migrations.size()) {
                tx.exec("PRAGMA user_version = " + migrations.size());
            }
            return null;
        });
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

    /** Whether this thread runs inside {@link #unsyncedWritesOnThisThread}. */
    public static boolean writesUnsyncedOnThisThread() {
        return Boolean.TRUE.equals(UNSYNCED_SCOPE.get());
    }

    /**
     * Runs {@code work} with every write transaction this thread opens, on any database, made as by
     * {@link #writeUnsynced}: for work whose records are all ephemeral across several databases (a
     * container run with rm: its metadata record and its snapshot's backend record). Nested scopes join.
     */
    public static <T> T unsyncedWritesOnThisThread(java.util.function.Supplier<T> work) {
        if (Boolean.TRUE.equals(UNSYNCED_SCOPE.get())) {
            return work.get();
        }
        UNSYNCED_SCOPE.set(Boolean.TRUE);
        try {
            return work.get();
        } finally {
            UNSYNCED_SCOPE.remove();
        }
    }

    private <T> T write(Work<T> work, boolean synced) {
        if (synced && Boolean.TRUE.equals(UNSYNCED_SCOPE.get())) {
            synced = false;
        }
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
            throw new ClosedException(name + " " + file);
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
    public void afterCommit(Runnable action) {
        Tx open = current.get();
        if (open == null) {
            action.run();
        } else {
            open.afterCommit.add(action);
        }
    }

    /**
     * Runs {@code action} if the thread's open transaction rolls back: undoes what was done outside this
     * database. Nothing happens without one.
     */
    public void onRollback(Runnable action) {
        Tx open = current.get();
        if (open != null) {
            open.onRollback.add(action);
        }
    }

    /** Whether this thread is inside a transaction (callers must not block on other processes then). */
    public boolean inTransaction() {
        return current.get() != null;
    }

    private <T> T run(Tx tx, Work<T> work) {
        try {
            return work.run(tx);
        } catch (SQLException e) {
            throw translate(name + " " + file, e);
        } catch (RuntimeException e) {
            throw e;
        } catch (IOException e) {
            throw IoFailureException.of("in a transaction on " + name + " " + file, e); // the work's file operation
        } catch (Exception e) {
            throw new BerthException(name + " " + file + ": " + e.getMessage(), e);
        }
    }

    private <T> T inTransaction(ReentrantLock lock, Connection conn, boolean writable, Work<T> work) {
        Tx tx = null;
        boolean committed = false;
        lock.lock();
        try {
            if (conn == null) {
                throw new ClosedException(name + " " + file);
            }
            try (Statement st = conn.createStatement()) {
                st.execute(writable ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
            } catch (SQLException e) {
                throw translate("begin a transaction on " + file, e);
            }
            tx = new Tx(conn, writable);
            current.set(tx);
            try {
                T result = run(tx, work);
                try (Statement st = conn.createStatement()) {
                    st.execute("COMMIT");
                } catch (SQLException e) {
                    throw translate(name + " " + file, e);
                }
                committed = true;
                return result;
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

    /**
     * A Berth exception for a failed statement: {@link UnavailableException} when another process held
     * the database past the busy timeout, {@link AlreadyExistsException} for a UNIQUE violation.
     */
    public static BerthException translate(String what, SQLException e) {
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

        /** Executes a statement without parameters (DDL, pragmas). */
        public void exec(String sql) throws SQLException {
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

        /** The first column of the first row as a number, 0 without rows. */
        public long count(String sql, Object... args) throws SQLException {
            try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }

        /**
         * A statement with {@code args} bound ({@code null}, {@code byte[]}, integral numbers, anything else
         * as its string), for batches and callers that map rows themselves; the caller closes it.
         */
        public PreparedStatement prepare(String sql, Object... args) throws SQLException {
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
