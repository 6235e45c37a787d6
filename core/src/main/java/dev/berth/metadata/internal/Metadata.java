package dev.berth.metadata.internal;

import dev.berth.GcPolicy;
import dev.berth.GcResult;
import dev.berth.Namespaces;
import dev.berth.api.ClosedException;
import dev.berth.api.Identifiers;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.content.ContentStore;
import dev.berth.api.event.Event;
import dev.berth.api.event.Events;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.sys.sqlite.SqliteDb;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * containerd's metadata layer over one root: namespaces, images, containers, leases, and namespaced
 * views of a shared content store and of the snapshotters, all recorded in one SQLite file
 * ({@code <root>/meta.db}) that several processes may use at once. {@link #namespace(String)} gives the
 * per-namespace services; {@link #gc()} collects what nothing references any more.
 *
 * <pre>{@code
 * try (Metadata md = Metadata.builder(root.resolve("meta.db"))
 *         .content(LocalContentStore.open(root.resolve("content")))
 *         .snapshotter(Snapshotters.overlay(root.resolve("snapshots/overlayfs")))
 *         .events(events)
 *         .build()) {
 *     NamespacedMetadata ns = md.namespace("default");
 *     try (LeaseScope lease = ns.withTemporaryLease(Duration.ofHours(24))) {
 *         ... write blobs to ns.content(), unpack into ns.snapshotter("overlayfs") ...
 *         ns.images().create(new Image(name, target));
 *     }
 * }
 * }</pre>
 *
 * <p>The backends handed to the builder must be used only through this object (GC deletes whatever
 * no record references) and are not closed by {@link #close()}. Thread-safe.
 */
public final class Metadata implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Metadata.class);

    private final MetaDb db;
    private final ContentStore content;
    private final Map<String, Snapshotter> snapshotters;
    private final Events events;
    private final GarbageCollector collector;
    private final GcScheduler scheduler;
    private final MetaNamespaces namespaces;
    private final boolean deferredSnapshotRemoval;
    private final ThreadLocal<Deque<LeaseBinding>> leaseStack = ThreadLocal.withInitial(ArrayDeque::new);
    private volatile boolean closed;

    private record LeaseBinding(Metadata owner, String namespace, String leaseId) {
    }

    private Metadata(Builder b) {
        this.content = b.content;
        this.snapshotters = Collections.unmodifiableMap(new LinkedHashMap<>(b.snapshotters));
        this.events = b.events;
        this.deferredSnapshotRemoval = b.deferredSnapshotRemoval;
        this.db = MetaDb.open(b.dbFile, b.busyTimeout);
        this.namespaces = new MetaNamespaces(this);
        this.collector = new GarbageCollector(this);
        this.scheduler = new GcScheduler(b.gcPolicy, collector::collect);
    }

    public static Builder builder(Path dbFile) {
        return new Builder(dbFile);
    }

    /** The namespace store. */
    public Namespaces namespaces() {
        return namespaces;
    }

    /**
     * The services of namespace {@code ns}. The namespace need not exist yet: creating anything in it
     * creates it.
     *
     * @throws InvalidArgumentException if {@code ns} is not an identifier
     */
    public NamespacedMetadata namespace(String ns) {
        Identifiers.validate("namespace", ns);
        ensureOpen();
        return new NamespacedMetadata(this, ns, null);
    }

    /** Runs a garbage collection now, across all namespaces, and reports what it removed. */
    public GcResult gc() {
        ensureOpen();
        if (db.inTransaction()) {
            throw new IllegalStateException("gc() inside a metadata transaction");
        }
        return collector.collect();
    }

    /** Names of the configured snapshotters, in the order they were added. */
    public Set<String> snapshotterNames() {
        return snapshotters.keySet();
    }

    /** The shared content store under the namespaced views (use it only for reading). */
    public ContentStore contentBackend() {
        return content;
    }

    /** The metadata database file. */
    public Path databaseFile() {
        return db.file();
    }

    /** Stops the GC scheduler and closes the database. The backends stay open. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        scheduler.close();
        db.close();
    }

    // ----- package-private plumbing for the namespaced services -----

    MetaDb db() {
        return db;
    }

    boolean deferredSnapshotRemoval() {
        return deferredSnapshotRemoval;
    }

    ContentStore content() {
        if (content == null) {
            throw new NotFoundException("no content store is configured");
        }
        return content;
    }

    boolean hasContent() {
        return content != null;
    }

    Map<String, Snapshotter> snapshotters() {
        return snapshotters;
    }

    Snapshotter snapshotter(String name) {
        Snapshotter s = snapshotters.get(name);
        if (s == null) {
            throw new NotFoundException("snapshotter \"" + name + "\" is not configured (configured: "
                    + String.join(", ", snapshotters.keySet()) + ")");
        }
        return s;
    }

    void ensureOpen() {
        if (closed) {
            throw new ClosedException("metadata " + db.file());
        }
    }

    /** Creates the namespace record if missing (containerd creates namespaces on first use). */
    void ensureNamespace(SqliteDb.Tx tx, String ns) throws SQLException {
        long now = Codec.nanos(Instant.now());
        tx.update("INSERT OR IGNORE INTO namespaces(name, labels, created_ns, updated_ns) VALUES (?, '{}', ?, ?)",
                ns, now, now);
    }

    /** Publishes after a commit; an event that cannot be published never fails the change that caused it. */
    /** Publishes {@code event}; inside a transaction, once it has committed. */
    void publish(String ns, Event event) {
        if (events == null) {
            return;
        }
        db.afterCommit(() -> {
            try {
                events.publish(ns, event);
            } catch (RuntimeException e) {
                LOG.warn("cannot publish {} in namespace {}: {}", event.topic(), ns, e.toString());
            }
        });
    }

    void noteDeletion() {
        db.afterCommit(scheduler::deletion);
    }

    void noteMutation() {
        db.afterCommit(scheduler::mutation);
    }

    /** The lease the calling thread made current for {@code ns}, if any. */
    Optional<String> threadLease(String ns) {
        Deque<LeaseBinding> stack = leaseStack.get();
        for (LeaseBinding b : stack) {
            if (b.owner == this && b.namespace.equals(ns)) {
                return Optional.of(b.leaseId);
            }
        }
        return Optional.empty();
    }

    Runnable pushThreadLease(String ns, String leaseId) {
        LeaseBinding binding = new LeaseBinding(this, ns, leaseId);
        Deque<LeaseBinding> stack = leaseStack.get();
        stack.push(binding);
        Thread owner = Thread.currentThread();
        return () -> {
            if (Thread.currentThread() != owner) {
                throw new IllegalStateException("a lease scope must be closed on the thread that opened it ("
                        + owner.getName() + ")");
            }
            Iterator<LeaseBinding> it = leaseStack.get().iterator();
            while (it.hasNext()) {
                if (it.next() == binding) {
                    it.remove();
                    break;
                }
            }
        };
    }

    /** Options of a {@link Metadata}. Not thread-safe. */
    public static final class Builder {
        private final Path dbFile;
        private ContentStore content;
        private final Map<String, Snapshotter> snapshotters = new LinkedHashMap<>();
        private Events events;
        private GcPolicy gcPolicy = GcPolicy.defaults();
        private Duration busyTimeout = Duration.ofSeconds(60);
        private boolean deferredSnapshotRemoval;

        private Builder(Path dbFile) {
            this.dbFile = Objects.requireNonNull(dbFile, "dbFile");
        }

        /** The shared blob store (e.g. {@code LocalContentStore} at {@code <root>/content}). */
        public Builder content(ContentStore store) {
            this.content = Objects.requireNonNull(store, "content");
            return this;
        }

        /** Adds a snapshotter under its {@link Snapshotter#name()}. */
        public Builder snapshotter(Snapshotter snapshotter) {
            Objects.requireNonNull(snapshotter, "snapshotter");
            if (snapshotters.putIfAbsent(snapshotter.name(), snapshotter) != null) {
                throw new InvalidArgumentException("snapshotter \"" + snapshotter.name() + "\" added twice");
            }
            return this;
        }

        /** Where {@code /namespaces/*}, {@code /images/*}, ... events go (none by default). */
        public Builder events(Events events) {
            this.events = events;
            return this;
        }

        public Builder gcPolicy(GcPolicy policy) {
            this.gcPolicy = Objects.requireNonNull(policy, "gcPolicy");
            return this;
        }

        /** How long a transaction waits for another process's (default 60 s). */
        public Builder busyTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "busyTimeout");
            if (timeout.isNegative()) {
                throw new InvalidArgumentException("busyTimeout must not be negative: " + timeout);
            }
            this.busyTimeout = timeout;
            return this;
        }

        /**
         * With true, removing a snapshot deletes only its record, and the next garbage collection removes
         * it from the backend, as containerd's metadata snapshotter does: one transaction fewer on the
         * critical path, the backend's disk space back later. Default false: the backend snapshot goes
         * within the removal.
         */
        public Builder deferredSnapshotRemoval(boolean deferred) {
            this.deferredSnapshotRemoval = deferred;
            return this;
        }

        public Metadata build() {
            return new Metadata(this);
        }
    }
}
