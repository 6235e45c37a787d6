package dev.berth.metadata.internal;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.Digest;
import dev.berth.api.Identifiers;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import dev.berth.api.NotFoundException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.filter.FieldPaths;
import dev.berth.api.filter.Filter;
import dev.berth.api.lease.Lease;
import dev.berth.api.lease.LeaseResource;
import dev.berth.api.lease.Leases;
import dev.berth.sys.sqlite.SqliteDb;
import java.security.SecureRandom;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Leases of one namespace. Filters: {@code id}, {@code labels.<key>}. An expired lease holds nothing
 * and is deleted by the next garbage collection.
 */
public final class MetaLeases implements Leases {
    /** Made at the first generated lease id: seeding it costs every open of a root ~10 ms otherwise. */
    private static final class Random {
        static final SecureRandom INSTANCE = new SecureRandom();
    }
    private final NamespacedMetadata ns;

    MetaLeases(NamespacedMetadata ns) {
        this.ns = ns;
    }

    private static Lease row(ResultSet rs) throws SQLException {
        return new Lease(rs.getString("id"), Codec.instant(rs.getLong("created_ns")),
                Codec.labels(rs.getString("labels")));
    }

    /** The expiry a lease's {@code containerd.io/gc.expire} label names, if it has a readable one. */
    public static Optional<Instant> expiry(Lease lease) {
        return parseExpiry(lease.labels().get(Labels.GC_EXPIRE));
    }

    static Optional<Instant> parseExpiry(String value) {
        if (value == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(value, Instant::from));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    static String formatExpiry(Instant t) {
        return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.MILLIS));
    }

    @Override
    public Lease create(String id, Map<String, String> labels, Duration expiry) {
        String leaseId = id == null ? randomId() : Identifiers.validate("lease id", id);
        TreeMap<String, String> l = new TreeMap<>(labels == null ? Map.of() : labels);
        if (expiry != null) {
            if (expiry.isNegative()) {
                throw new InvalidArgumentException("lease " + leaseId + ": expiry must not be negative: " + expiry);
            }
            l.put(Labels.GC_EXPIRE, formatExpiry(Instant.now().plus(expiry)));
        }
        Labels.validate(l);
        Lease created = ns.db().write(tx -> {
            ns.metadata().ensureNamespace(tx, ns.name());
            if (tx.exists("SELECT 1 FROM leases WHERE ns = ? AND id = ?", ns.name(), leaseId)) {
                throw new AlreadyExistsException("lease " + leaseId + ": already exists in namespace " + ns.name());
            }
            tx.update("INSERT INTO leases(ns, id, labels, created_ns) VALUES (?, ?, ?, ?)",
                    ns.name(), leaseId, Codec.labels(l), Codec.nanos(Instant.now()));
            return get(tx, leaseId);
        });
        ns.metadata().noteMutation();
        return created;
    }

    /** containerd's random ids are time plus random bits; ours are too, and are identifiers. */
    private static String randomId() {
        byte[] r = new byte[6];
        Random.INSTANCE.nextBytes(r);
        return Long.toString(System.currentTimeMillis(), 36) + "-" + HexFormat.of().formatHex(r);
    }

    private Lease get(SqliteDb.Tx tx, String id) throws SQLException {
        return tx.one("SELECT * FROM leases WHERE ns = ? AND id = ?", MetaLeases::row, ns.name(), id)
                .orElseThrow(() -> new NotFoundException("lease " + id + ": not found in namespace " + ns.name()));
    }

    /** @throws NotFoundException if absent */
    public Lease get(String id) {
        Objects.requireNonNull(id, "id");
        return ns.db().read(tx -> get(tx, id));
    }

    @Override
    public void delete(String id, boolean synchronous) {
        Objects.requireNonNull(id, "id");
        ns.db().write(tx -> {
            if (tx.update("DELETE FROM leases WHERE ns = ? AND id = ?", ns.name(), id) == 0) {
                throw new NotFoundException("lease " + id + ": not found in namespace " + ns.name());
            }
            return null;
        });
        if (synchronous) {
            ns.metadata().gc();
        } else {
            ns.metadata().noteDeletion();
        }
    }

    @Override
    public List<Lease> list(String... filters) {
        Filter filter = Filter.parse(filters);
        List<Lease> all = ns.db().read(tx -> tx.query("SELECT * FROM leases WHERE ns = ? ORDER BY created_ns, id",
                MetaLeases::row, ns.name()));
        List<Lease> out = new ArrayList<>();
        for (Lease l : all) {
            if (filter.matches(FieldPaths.builder().field("id", l.id()).map("labels", l.labels()).build())) {
                out.add(l);
            }
        }
        return out;
    }

    @Override
    public void addResource(String leaseId, LeaseResource resource) {
        Objects.requireNonNull(leaseId, "leaseId");
        validate(resource);
        ns.db().write(tx -> {
            ns.requireLease(tx, leaseId);
            tx.update("INSERT OR IGNORE INTO lease_resources(ns, lease, type, id) VALUES (?, ?, ?, ?)",
                    ns.name(), leaseId, resource.type(), resource.id());
            return null;
        });
    }

    @Override
    public void deleteResource(String leaseId, LeaseResource resource) {
        Objects.requireNonNull(leaseId, "leaseId");
        validate(resource);
        ns.db().write(tx -> {
            ns.requireLease(tx, leaseId);
            tx.update("DELETE FROM lease_resources WHERE ns = ? AND lease = ? AND type = ? AND id = ?",
                    ns.name(), leaseId, resource.type(), resource.id());
            return null;
        });
        ns.metadata().noteDeletion();
    }

    @Override
    public List<LeaseResource> listResources(String leaseId) {
        Objects.requireNonNull(leaseId, "leaseId");
        return ns.db().read(tx -> {
            ns.requireLease(tx, leaseId);
            return tx.query("SELECT type, id FROM lease_resources WHERE ns = ? AND lease = ? ORDER BY type, id",
                    rs -> new LeaseResource(rs.getString("id"), rs.getString("type")), ns.name(), leaseId);
        });
    }

    private static void validate(LeaseResource r) {
        Objects.requireNonNull(r, "resource");
        if (r.id().isEmpty()) {
            throw new InvalidArgumentException("lease resource of type " + r.type() + " has an empty id");
        }
        switch (r.type()) {
            case "content" -> Digest.parse(r.id());
            case "ingests" -> {
            }
            default -> {
                if (!r.type().startsWith("snapshots/") || r.type().length() == "snapshots/".length()) {
                    throw new NotImplementedException("unsupported lease resource type \"" + r.type()
                            + "\" (expected content, ingests or snapshots/<snapshotter>)");
                }
            }
        }
    }
}
