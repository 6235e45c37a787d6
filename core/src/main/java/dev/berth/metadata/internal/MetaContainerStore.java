package dev.berth.metadata.internal;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.Identifiers;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import dev.berth.api.NotFoundException;
import dev.berth.api.container.ContainerRecord;
import dev.berth.api.container.ContainerStore;
import dev.berth.api.event.ContainerEvent;
import dev.berth.api.filter.FieldPaths;
import dev.berth.api.filter.Filter;
import dev.berth.sys.sqlite.SqliteDb;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;

/**
 * ContainerRecord records of one namespace. A container keeps its snapshot (and anything its labels point at
 * with {@code containerd.io/gc.ref.*}) alive. Filters: {@code id}, {@code image}, {@code runtime.name},
 * {@code snapshotter}, {@code snapshotkey}, {@code labels.<key>}.
 */
public final class MetaContainerStore implements ContainerStore {
    private final NamespacedMetadata ns;

    MetaContainerStore(NamespacedMetadata ns) {
        this.ns = ns;
    }

    private static ContainerRecord row(ResultSet rs) throws SQLException {
        ContainerRecord.Runtime runtime = new ContainerRecord.Runtime(rs.getString("runtime_name"),
                rs.getString("runtime_options_type"), rs.getBytes("runtime_options"));
        byte[] spec = rs.getBytes("spec");
        return new ContainerRecord(rs.getString("id"), Codec.labels(rs.getString("labels")), rs.getString("image"),
                runtime, spec == null ? new byte[0] : spec, rs.getString("snapshotter"), rs.getString("snapshot_key"),
                Codec.instant(rs.getLong("created_ns")), Codec.instant(rs.getLong("updated_ns")),
                Codec.extensions(rs.getString("extensions")));
    }

    private ContainerRecord get(SqliteDb.Tx tx, String id) throws SQLException {
        return tx.one("SELECT * FROM containers WHERE ns = ? AND id = ?", MetaContainerStore::row, ns.name(), id)
                .orElseThrow(() -> new NotFoundException("container \"" + id + "\": not found in namespace "
                        + ns.name()));
    }

    @Override
    public ContainerRecord get(String id) {
        Objects.requireNonNull(id, "id");
        return ns.db().read(tx -> get(tx, id));
    }

    /** Whether container {@code id} exists in this namespace. */
    public boolean exists(String id) {
        Objects.requireNonNull(id, "id");
        return ns.db().read(tx -> tx.exists("SELECT 1 FROM containers WHERE ns = ? AND id = ?", ns.name(), id));
    }

    @Override
    public List<ContainerRecord> list(String... filters) {
        Filter filter = Filter.parse(filters);
        List<ContainerRecord> all = ns.db().read(tx -> tx.query("SELECT * FROM containers WHERE ns = ? ORDER BY id",
                MetaContainerStore::row, ns.name()));
        List<ContainerRecord> out = new ArrayList<>();
        for (ContainerRecord c : all) {
            if (filter.matches(fields(c))) {
                out.add(c);
            }
        }
        return out;
    }

    static Filter.FieldPathAdaptor fields(ContainerRecord c) {
        return FieldPaths.builder()
                .field("id", c.id())
                .field("image", c.image())
                .field("runtime.name", c.runtime() == null ? null : c.runtime().name())
                .field("snapshotter", c.snapshotter())
                .field("snapshotkey", c.snapshotKey())
                .map("labels", c.labels())
                .build();
    }

    private static void validate(ContainerRecord c) {
        Objects.requireNonNull(c, "container");
        Identifiers.validate("container id", c.id());
        Labels.validate(c.labels());
        for (String k : c.extensions().keySet()) {
            if (k.isEmpty()) {
                throw new InvalidArgumentException("container " + c.id() + ": extension names must not be empty");
            }
        }
        if (c.runtime() == null || c.runtime().name().isEmpty()) {
            throw new InvalidArgumentException("container " + c.id() + ": a runtime name is required");
        }
        if (c.spec() == null) {
            throw new InvalidArgumentException("container " + c.id() + ": a spec is required");
        }
        if (!empty(c.snapshotKey()) && empty(c.snapshotter())) {
            throw new InvalidArgumentException("container " + c.id() + ": snapshot key \"" + c.snapshotKey()
                    + "\" given without a snapshotter");
        }
    }

    private static boolean empty(String s) {
        return s == null || s.isEmpty();
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    @Override
    public ContainerRecord create(ContainerRecord c) {
        validate(c);
        ContainerRecord created = ns.db().write(tx -> {
            ns.metadata().ensureNamespace(tx, ns.name());
            if (tx.exists("SELECT 1 FROM containers WHERE ns = ? AND id = ?", ns.name(), c.id())) {
                throw new AlreadyExistsException("container \"" + c.id() + "\": already exists in namespace "
                        + ns.name());
            }
            long now = Codec.nanos(Instant.now());
            tx.update("INSERT INTO containers(ns, id, image, runtime_name, runtime_options_type, runtime_options,"
                            + " spec, snapshotter, snapshot_key, labels, extensions, created_ns, updated_ns)"
                            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    ns.name(), c.id(), orEmpty(c.image()), c.runtime().name(), c.runtime().optionsTypeUrl(),
                    c.runtime().options(), c.spec(), orEmpty(c.snapshotter()), orEmpty(c.snapshotKey()),
                    Codec.labels(c.labels()), Codec.extensions(c.extensions()), now, now);
            return get(tx, c.id());
        });
        ns.metadata().publish(ns.name(), new ContainerEvent.Create(created.id(), created.image(),
                created.runtime().name()));
        ns.metadata().noteMutation();
        return created;
    }

    /**
     * Field paths: {@code labels}, {@code labels.<key>}, {@code spec}, {@code image}, {@code snapshotkey},
     * {@code extensions}, {@code extensions.<name>}; none = labels and spec. The runtime and snapshotter
     * never change: a request that names different ones is refused.
     */
    @Override
    public ContainerRecord update(ContainerRecord c, String... fieldPaths) {
        Objects.requireNonNull(c, "container");
        Identifiers.validate("container id", c.id());
        ContainerRecord updated = ns.db().write(tx -> {
            ContainerRecord cur = get(tx, c.id());
            if (c.runtime() != null && !c.runtime().name().isEmpty()
                    && !c.runtime().name().equals(cur.runtime().name())) {
                throw new InvalidArgumentException("container " + c.id() + ": the runtime is immutable ("
                        + cur.runtime().name() + ", requested " + c.runtime().name() + ")");
            }
            if (!empty(c.snapshotter()) && !c.snapshotter().equals(cur.snapshotter())) {
                throw new InvalidArgumentException("container " + c.id() + ": the snapshotter is immutable ("
                        + cur.snapshotter() + ", requested " + c.snapshotter() + ")");
            }
            TreeMap<String, String> labels = new TreeMap<>(cur.labels());
            byte[] spec = cur.spec();
            String image = cur.image();
            String snapshotKey = cur.snapshotKey();
            TreeMap<String, byte[]> extensions = new TreeMap<>(cur.extensions());
            String[] paths = fieldPaths == null || fieldPaths.length == 0 ? new String[] {"labels", "spec"}
                    : fieldPaths;
            for (String p : paths) {
                if (LabelPaths.isLabelPath(p)) {
                    LabelPaths.apply(labels, c.labels(), p);
                } else if (p.equals("spec")) {
                    if (c.spec() == null) {
                        throw new InvalidArgumentException("container " + c.id() + ": a spec is required");
                    }
                    spec = c.spec();
                } else if (p.equals("image")) {
                    image = orEmpty(c.image());
                } else if (p.equals("snapshotkey")) {
                    snapshotKey = orEmpty(c.snapshotKey());
                } else if (p.equals("extensions")) {
                    extensions = new TreeMap<>(c.extensions());
                } else if (p.startsWith("extensions.") && p.length() > "extensions.".length()) {
                    String name = p.substring("extensions.".length());
                    byte[] v = c.extensions().get(name);
                    if (v == null) {
                        extensions.remove(name);
                    } else {
                        extensions.put(name, v);
                    }
                } else {
                    throw new InvalidArgumentException("cannot update field \"" + p + "\" of container " + c.id()
                            + ": use labels, labels.<key>, spec, image, snapshotkey or extensions.<name>");
                }
            }
            Labels.validate(labels);
            if (!snapshotKey.isEmpty() && cur.snapshotter().isEmpty()) {
                throw new InvalidArgumentException("container " + c.id() + ": snapshot key \"" + snapshotKey
                        + "\" given without a snapshotter");
            }
            tx.update("UPDATE containers SET labels = ?, spec = ?, image = ?, snapshot_key = ?, extensions = ?,"
                            + " updated_ns = ? WHERE ns = ? AND id = ?",
                    Codec.labels(labels), spec, image, snapshotKey, Codec.extensions(extensions),
                    Codec.nanos(Instant.now()), ns.name(), c.id());
            return get(tx, c.id());
        });
        ns.metadata().publish(ns.name(), new ContainerEvent.Update(updated.id(), updated.image(), updated.labels(),
                updated.snapshotKey()));
        ns.metadata().noteDeletion();
        return updated;
    }

    @Override
    public void delete(String id) {
        Objects.requireNonNull(id, "id");
        ns.db().write(tx -> {
            if (tx.update("DELETE FROM containers WHERE ns = ? AND id = ?", ns.name(), id) == 0) {
                throw new NotFoundException("container \"" + id + "\": not found in namespace " + ns.name());
            }
            return null;
        });
        ns.metadata().publish(ns.name(), new ContainerEvent.Delete(id));
        ns.metadata().noteDeletion();
    }
}
