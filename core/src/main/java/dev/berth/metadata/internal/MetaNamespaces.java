package dev.berth.metadata.internal;

import dev.berth.NamespaceInfo;
import dev.berth.Namespaces;
import dev.berth.api.AlreadyExistsException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.Identifiers;
import dev.berth.api.Labels;
import dev.berth.api.NotFoundException;
import dev.berth.api.event.NamespaceEvent;
import dev.berth.sys.sqlite.SqliteDb;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** Namespaces in the metadata database. */
final class MetaNamespaces implements Namespaces {
    private final Metadata md;

    MetaNamespaces(Metadata md) {
        this.md = md;
    }

    private static NamespaceInfo row(ResultSet rs) throws SQLException {
        return new NamespaceInfo(rs.getString("name"), Codec.labels(rs.getString("labels")),
                Codec.instant(rs.getLong("created_ns")), Codec.instant(rs.getLong("updated_ns")));
    }

    @Override
    public NamespaceInfo create(String name, Map<String, String> labels) {
        Identifiers.validate("namespace", name);
        Map<String, String> l = Labels.validate(labels == null ? Map.of() : labels);
        md.ensureOpen();
        NamespaceInfo created = md.db().write(tx -> {
            if (tx.exists("SELECT 1 FROM namespaces WHERE name = ?", name)) {
                throw new AlreadyExistsException("namespace " + name + ": already exists");
            }
            long now = Codec.nanos(Instant.now());
            tx.update("INSERT INTO namespaces(name, labels, created_ns, updated_ns) VALUES (?, ?, ?, ?)",
                    name, Codec.labels(l), now, now);
            return get(tx, name);
        });
        md.publish(name, new NamespaceEvent.Create(name, created.labels()));
        return created;
    }

    private static NamespaceInfo get(SqliteDb.Tx tx, String name) throws SQLException {
        return tx.one("SELECT * FROM namespaces WHERE name = ?", MetaNamespaces::row, name)
                .orElseThrow(() -> new NotFoundException("namespace " + name + ": not found"));
    }

    @Override
    public NamespaceInfo get(String name) {
        Objects.requireNonNull(name, "name");
        md.ensureOpen();
        return md.db().read(tx -> get(tx, name));
    }

    @Override
    public List<NamespaceInfo> list() {
        md.ensureOpen();
        return md.db().read(tx -> tx.query("SELECT * FROM namespaces ORDER BY name", MetaNamespaces::row));
    }

    @Override
    public NamespaceInfo setLabel(String name, String key, String value) {
        Objects.requireNonNull(name, "name");
        boolean remove = value == null || value.isEmpty();
        if (!remove) {
            Labels.validate(key, value);
        } else if (key == null || key.isEmpty()) {
            Labels.validate(key, "");
        }
        md.ensureOpen();
        NamespaceInfo updated = md.db().write(tx -> {
            NamespaceInfo current = get(tx, name);
            TreeMap<String, String> labels = new TreeMap<>(current.labels());
            if (remove) {
                labels.remove(key);
            } else {
                labels.put(key, value);
            }
            tx.update("UPDATE namespaces SET labels = ?, updated_ns = ? WHERE name = ?",
                    Codec.labels(labels), Codec.nanos(Instant.now()), name);
            return get(tx, name);
        });
        md.publish(name, new NamespaceEvent.Update(name, updated.labels()));
        return updated;
    }

    @Override
    public void delete(String name) {
        Objects.requireNonNull(name, "name");
        md.ensureOpen();
        md.db().write(tx -> {
            get(tx, name);
            List<String> remaining = new ArrayList<>();
            count(tx, remaining, "SELECT count(*) FROM images WHERE ns = ?", name, "image");
            count(tx, remaining, "SELECT count(*) FROM containers WHERE ns = ?", name, "container");
            count(tx, remaining, "SELECT count(*) FROM content WHERE ns = ?", name, "blob");
            count(tx, remaining, "SELECT count(*) FROM snapshots WHERE ns = ?", name, "snapshot");
            count(tx, remaining, "SELECT count(*) FROM leases WHERE ns = ?", name, "lease");
            count(tx, remaining, "SELECT count(*) FROM ingests WHERE ns = ?", name, "ingest");
            if (!remaining.isEmpty()) {
                throw new FailedPreconditionException("namespace " + name + " must be empty, but it still has "
                        + String.join(", ", remaining));
            }
            tx.update("DELETE FROM namespaces WHERE name = ?", name);
            return null;
        });
        md.publish(name, new NamespaceEvent.Delete(name));
    }

    private static void count(SqliteDb.Tx tx, List<String> out, String sql, String ns, String what)
            throws SQLException {
        long n = tx.count(sql, ns);
        if (n > 0) {
            out.add(n + " " + what + (n == 1 ? "" : "s"));
        }
    }
}
