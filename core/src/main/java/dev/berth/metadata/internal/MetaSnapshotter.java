package dev.berth.metadata.internal;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import dev.berth.api.Mount;
import dev.berth.api.NotFoundException;
import dev.berth.api.event.SnapshotEvent;
import dev.berth.api.filter.FieldPaths;
import dev.berth.api.filter.Filter;
import dev.berth.api.snapshot.Kind;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.api.snapshot.Usage;
import dev.berth.sys.sqlite.SqliteDb;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One namespace's view of a snapshotter (containerd's {@code metadata/snapshot.go}). Keys are per
 * namespace: key {@code k} of namespace {@code n} is backend snapshot {@code n/<seq>/k}. Labels, parent
 * and times are kept here; only labels under {@code containerd.io/snapshot/} and
 * {@code containerd.io/snapshot.ref} are passed to the backend. Backend changes happen inside the
 * metadata transaction, so a concurrent garbage collection never sees a half-made snapshot.
 */
public final class MetaSnapshotter implements Snapshotter {
    private static final Logger LOG = LoggerFactory.getLogger(MetaSnapshotter.class);
    private static final String INHERITED_PREFIX = "containerd.io/snapshot/";

    private final NamespacedMetadata ns;
    private final Snapshotter backend;
    private final String name;

    MetaSnapshotter(NamespacedMetadata ns, Snapshotter backend) {
        this.ns = ns;
        this.backend = backend;
        this.name = backend.name();
    }

    record Row(String key, String backendKey, String parent, Kind kind, Map<String, String> labels,
               Instant created, Instant updated) {
        SnapshotInfo info() {
            return new SnapshotInfo(key, parent, kind, labels, created, updated);
        }
    }

    private static Row row(ResultSet rs) throws SQLException {
        return new Row(rs.getString("key"), rs.getString("backend_key"), rs.getString("parent"),
                kindOf(rs.getInt("kind")), Codec.labels(rs.getString("labels")),
                Codec.instant(rs.getLong("created_ns")), Codec.instant(rs.getLong("updated_ns")));
    }

    private static Kind kindOf(int n) {
        for (Kind k : Kind.values()) {
            if (k.number() == n) {
                return k;
            }
        }
        return Kind.UNKNOWN;
    }

    private Optional<Row> find(SqliteDb.Tx tx, String key) throws SQLException {
        return tx.one("SELECT * FROM snapshots WHERE ns = ? AND snapshotter = ? AND key = ?", MetaSnapshotter::row,
                ns.name(), name, key);
    }

    private Row get(SqliteDb.Tx tx, String key) throws SQLException {
        return find(tx, key).orElseThrow(() -> notFound(key));
    }

    private NotFoundException notFound(String key) {
        return new NotFoundException("snapshot " + name + "/" + key + ": not found in namespace " + ns.name());
    }

    private static void requireKey(String key) {
        if (key == null || key.isEmpty()) {
            throw new InvalidArgumentException("snapshot key must not be empty");
        }
    }

    @Override
    public SnapshotInfo stat(String key) {
        requireKey(key);
        return ns.db().read(tx -> get(tx, key)).info();
    }

    @Override
    public SnapshotInfo update(SnapshotInfo info, String... fieldPaths) {
        Objects.requireNonNull(info, "info");
        return ns.db().write(tx -> {
            Row cur = get(tx, info.name());
            Map<String, String> labels = LabelPaths.update(cur.labels(), info.labels(),
                    "snapshot " + info.name(), fieldPaths);
            tx.update("UPDATE snapshots SET labels = ?, updated_ns = ? WHERE ns = ? AND snapshotter = ? AND key = ?",
                    Codec.labels(labels), Codec.nanos(Instant.now()), ns.name(), name, info.name());
            return get(tx, info.name()).info();
        });
    }

    @Override
    public Usage usage(String key) {
        requireKey(key);
        Row r = ns.db().read(tx -> get(tx, key));
        return backend.usage(r.backendKey());
    }

    @Override
    public List<Mount> mounts(String key) {
        requireKey(key);
        Row r = ns.db().read(tx -> get(tx, key));
        if (r.kind() == Kind.COMMITTED) {
            throw new FailedPreconditionException("snapshot " + name + "/" + key
                    + " is committed: only active snapshots and views have mounts");
        }
        return backend.mounts(r.backendKey());
    }

    @Override
    public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
        return create(key, parent, labels, Kind.ACTIVE);
    }

    @Override
    public List<Mount> view(String key, String parent, Map<String, String> labels) {
        return create(key, parent, labels, Kind.VIEW);
    }

    private List<Mount> create(String key, String parent, Map<String, String> labels, Kind kind) {
        requireKey(key);
        String p = parent == null || parent.isEmpty() ? null : parent;
        Map<String, String> l = Labels.validate(labels == null ? Map.of() : labels);
        List<Mount> mounts = ns.db().write(tx -> {
            ns.metadata().ensureNamespace(tx, ns.name());
            if (find(tx, key).isPresent()) {
                throw new AlreadyExistsException("snapshot " + name + "/" + key + ": already exists in namespace "
                        + ns.name());
            }
            String parentBackend = null;
            if (p != null) {
                Row pr = find(tx, p).orElseThrow(() -> new NotFoundException("parent snapshot " + name + "/" + p
                        + " does not exist in namespace " + ns.name()));
                if (pr.kind() != Kind.COMMITTED) {
                    throw new InvalidArgumentException("parent snapshot " + name + "/" + p + " is "
                            + pr.kind().displayName() + ": only committed snapshots can be parents");
                }
                parentBackend = pr.backendKey();
            }
            String bkey = backendKey(tx, key);
            long now = Codec.nanos(Instant.now());
            tx.update("INSERT INTO snapshots(ns, snapshotter, key, backend_key, parent, kind, labels, created_ns,"
                            + " updated_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    ns.name(), name, key, bkey, p, kind.number(), Codec.labels(l), now, now);
            ns.addToCurrentLease(tx, "snapshots/" + name, key);
            List<Mount> m = kind == Kind.VIEW ? backend.view(bkey, parentBackend, inherited(l))
                    : backend.prepare(bkey, parentBackend, inherited(l));
            // the backend has committed; if the record does not (this or an enclosing transaction fails),
            // neither may the snapshot stay
            ns.db().onRollback(() -> removeBackend(bkey, key));
            return m;
        });
        ns.metadata().noteMutation();
        ns.metadata().publish(ns.name(), new SnapshotEvent.Prepare(key, p == null ? "" : p, name));
        return mounts;
    }

    private String backendKey(SqliteDb.Tx tx, String key) throws SQLException {
        return ns.name() + "/" + MetaDb.nextSequence(tx, "snapshot") + "/" + key;
    }

    private static Map<String, String> inherited(Map<String, String> labels) {
        Map<String, String> out = new TreeMap<>();
        labels.forEach((k, v) -> {
            if (k.startsWith(INHERITED_PREFIX) || k.equals(Labels.SNAPSHOT_REF)) {
                out.put(k, v);
            }
        });
        return out;
    }

    @Override
    public void commit(String committedName, String key, Map<String, String> labels) {
        requireKey(committedName);
        requireKey(key);
        Map<String, String> l = Labels.validate(labels == null ? Map.of() : labels);
        ns.db().write(tx -> {
            Row active = get(tx, key);
            if (active.kind() != Kind.ACTIVE) {
                throw new FailedPreconditionException("snapshot " + name + "/" + key + " is "
                        + active.kind().displayName() + ": only active snapshots can be committed");
            }
            if (find(tx, committedName).isPresent()) {
                throw new AlreadyExistsException("snapshot " + name + "/" + committedName
                        + ": already exists in namespace " + ns.name());
            }
            String bkey = backendKey(tx, committedName);
            long now = Codec.nanos(Instant.now());
            tx.update("DELETE FROM snapshots WHERE ns = ? AND snapshotter = ? AND key = ?", ns.name(), name, key);
            tx.update("INSERT INTO snapshots(ns, snapshotter, key, backend_key, parent, kind, labels, created_ns,"
                            + " updated_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    ns.name(), name, committedName, bkey, active.parent(), Kind.COMMITTED.number(), Codec.labels(l),
                    now, now);
            ns.addToCurrentLease(tx, "snapshots/" + name, committedName);
            ns.removeFromCurrentLease(tx, "snapshots/" + name, key);
            backend.commit(bkey, active.backendKey(), inherited(l));
            return null;
        });
        ns.metadata().noteMutation();
        ns.metadata().publish(ns.name(), new SnapshotEvent.Commit(key, committedName, name));
    }

    /**
     * Removes the snapshot from this namespace and from the backend (with deferred removal, the next
     * garbage collection removes it from the backend).
     *
     * @throws FailedPreconditionException if other snapshots of this namespace have it as parent
     */
    @Override
    public void remove(String key) {
        requireKey(key);
        ns.db().write(tx -> {
            Row r = get(tx, key);
            long children = tx.count("SELECT count(*) FROM snapshots WHERE ns = ? AND snapshotter = ? AND parent = ?",
                    ns.name(), name, key);
            if (children > 0) {
                throw new FailedPreconditionException("snapshot " + name + "/" + key + " has " + children
                        + " child snapshot" + (children == 1 ? "" : "s") + ": remove them first");
            }
            tx.update("DELETE FROM snapshots WHERE ns = ? AND snapshotter = ? AND key = ?", ns.name(), name, key);
            if (!ns.metadata().deferredSnapshotRemoval()) {
                // once the record's removal commits, outside the writer lock: deleting the files (and the
                // snapshotter's mount check) held up every other writer; a crash in between leaves an orphan
                // that garbage collection removes, as with deferred removal
                ns.db().afterCommit(() -> removeBackend(r.backendKey(), key));
            }
            return null;
        });
        ns.metadata().publish(ns.name(), new SnapshotEvent.Remove(key, name));
        ns.metadata().noteDeletion();
    }

    private void removeBackend(String backendKey, String key) {
        try {
            backend.remove(backendKey);
        } catch (NotFoundException e) {
            LOG.debug("backend snapshot {} of {} was already gone", backendKey, key);
        } catch (FailedPreconditionException e) {
            // an orphan left by a crash still sits on it; garbage collection removes both later
            LOG.info("backend snapshot {} kept for garbage collection: {}", backendKey, e.getMessage());
        }
    }

    @Override
    public void walk(Consumer<SnapshotInfo> fn, String... filters) {
        Filter filter = Filter.parse(filters);
        List<Row> rows = ns.db().read(tx -> tx.query(
                "SELECT * FROM snapshots WHERE ns = ? AND snapshotter = ? ORDER BY key", MetaSnapshotter::row,
                ns.name(), name));
        List<SnapshotInfo> matched = new ArrayList<>();
        for (Row r : rows) {
            SnapshotInfo i = r.info();
            if (filter.matches(fields(i))) {
                matched.add(i);
            }
        }
        matched.forEach(fn);
    }

    static Filter.FieldPathAdaptor fields(SnapshotInfo i) {
        return FieldPaths.builder()
                .field("name", i.name())
                .field("parent", i.parent())
                .field("kind", i.kind().displayName().toLowerCase(java.util.Locale.ROOT)) // containerd's values
                .map("labels", i.labels())
                .build();
    }

    /** Reclaims the backend's disk space of removed snapshots. */
    @Override
    public void cleanup() {
        backend.cleanup();
    }

    @Override
    public String name() {
        return name;
    }

    /** Nothing to release: the backend belongs to the {@link Metadata}. */
    @Override
    public void close() {
    }
}
