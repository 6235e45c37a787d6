package dev.berth.metadata.internal;

import dev.berth.GcResult;
import dev.berth.api.BerthException;
import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import dev.berth.api.NotFoundException;
import dev.berth.api.content.ContentStore;
import dev.berth.api.content.Status;
import dev.berth.api.event.ContentEvent;
import dev.berth.api.event.SnapshotEvent;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.sys.sqlite.SqliteDb;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * containerd's garbage collector: a tricolor mark from the roots over all namespaces, then a sweep.
 *
 * <p>Roots: leases that have not expired (all their resources; a {@code containerd.io/gc.flat} lease only
 * the named resources themselves), images (their target), containers (their snapshot and the
 * {@code gc.ref} labels on them), blobs and snapshots labelled {@code containerd.io/gc.root}, and ingests
 * whose expiry is in the future. Edges: {@code containerd.io/gc.ref.content[.|/...]=<digest>} and
 * {@code containerd.io/gc.ref.snapshot.<snapshotter>[/...]=<key>} labels of blobs and snapshots, a
 * snapshot's parent, an ingest's expected blob.
 *
 * <p>The metadata sweep is one transaction. A second transaction then deletes what no namespace
 * references any more from the shared disk stores: blobs, abandoned ingests, backend snapshots (children
 * first). Both hold the database's write lock, which every process also takes while it changes a disk
 * store, so nothing half-made is ever seen. Snapshotter {@code cleanup} runs last, outside the lock.
 */
final class GarbageCollector {
    private static final Logger LOG = LoggerFactory.getLogger(GarbageCollector.class);

    private final Metadata md;
    private final ReentrantLock running = new ReentrantLock();

    GarbageCollector(Metadata md) {
        this.md = md;
    }

    /** A node of the reference graph. For content {@code a} is the digest; for snapshots the snapshotter. */
    record Node(char type, String ns, String a, String b) {
        static Node content(String ns, String digest) {
            return new Node('c', ns, digest, "");
        }

        static Node snapshot(String ns, String snapshotter, String key) {
            return new Node('s', ns, snapshotter, key);
        }

        static Node ingest(String ns, String ref) {
            return new Node('i', ns, ref, "");
        }
    }

    private record SnapshotRow(String parent, Map<String, String> labels) {
    }

    private record IngestRow(Long expireAt, String expected) {
    }

    private record Removed(List<String[]> content, List<String[]> snapshots, int ingests, int leases) {
    }

    GcResult collect() {
        running.lock();
        try {
            long start = System.nanoTime();
            Removed removed = md.db().write(this::markAndSweep);
            for (String[] c : removed.content) {
                md.publish(c[0], new ContentEvent.Delete(Digest.parse(c[1])));
            }
            for (String[] s : removed.snapshots) {
                md.publish(s[0], new SnapshotEvent.Remove(s[2], s[1]));
            }
            int[] disk = md.db().write(this::sweepBackends);
            for (Snapshotter sn : md.snapshotters().values()) {
                try {
                    sn.cleanup();
                } catch (RuntimeException e) {
                    LOG.warn("snapshotter {}: cleanup failed: {}", sn.name(), e.toString());
                }
            }
            GcResult result = new GcResult(removed.leases, removed.content.size(), removed.snapshots.size(),
                    removed.ingests, disk[0], disk[1], disk[2], Duration.ofNanos(System.nanoTime() - start));
            if (result.removedAnything()) {
                LOG.debug("garbage collection: {}", result);
            }
            return result;
        } finally {
            running.unlock();
        }
    }

    private Removed markAndSweep(SqliteDb.Tx tx) throws SQLException {
        long now = Codec.nanos(Instant.now());
        Map<Node, Map<String, String>> content = new HashMap<>();
        for (String[] r : tx.query("SELECT ns, digest, labels FROM content",
                rs -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3)})) {
            content.put(Node.content(r[0], r[1]), Codec.labels(r[2]));
        }
        Map<Node, SnapshotRow> snapshots = new HashMap<>();
        for (String[] r : tx.query("SELECT ns, snapshotter, key, parent, labels FROM snapshots",
                rs -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5)})) {
            snapshots.put(Node.snapshot(r[0], r[1], r[2]), new SnapshotRow(r[3], Codec.labels(r[4])));
        }
        Map<Node, IngestRow> ingests = new HashMap<>();
        tx.query("SELECT ns, ref, expire_at_ns, expected FROM ingests", rs -> {
            long exp = rs.getLong(3);
            Long expireAt = rs.wasNull() ? null : exp;
            ingests.put(Node.ingest(rs.getString(1), rs.getString(2)), new IngestRow(expireAt, rs.getString(4)));
            return null;
        });

        Marker marker = new Marker(content, snapshots, ingests);

        // roots: leases
        List<String[]> expiredLeases = new ArrayList<>();
        Map<String, Boolean> liveLeases = new HashMap<>(); // "ns\0id" -> flat
        for (String[] r : tx.query("SELECT ns, id, labels FROM leases",
                rs -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3)})) {
            Map<String, String> labels = Codec.labels(r[2]);
            String exp = labels.get(Labels.GC_EXPIRE);
            if (exp != null) {
                Optional<Instant> at = MetaLeases.parseExpiry(exp);
                if (at.isEmpty()) {
                    LOG.warn("lease {} in namespace {}: unreadable {} label \"{}\"; treating it as not expired",
                            r[1], r[0], Labels.GC_EXPIRE, exp);
                } else if (Codec.nanos(at.get()) <= now) {
                    expiredLeases.add(r);
                    continue;
                }
            }
            liveLeases.put(r[0] + "\0" + r[1], labels.containsKey(Labels.GC_FLAT));
        }
        tx.query("SELECT ns, lease, type, id FROM lease_resources", rs -> {
            String ns = rs.getString(1);
            Boolean flat = liveLeases.get(ns + "\0" + rs.getString(2));
            if (flat == null) {
                return null;
            }
            String type = rs.getString(3);
            String id = rs.getString(4);
            Node n = null;
            if (type.equals("content")) {
                n = Node.content(ns, id);
            } else if (type.equals("ingests")) {
                n = Node.ingest(ns, id);
            } else if (type.startsWith("snapshots/")) {
                n = Node.snapshot(ns, type.substring("snapshots/".length()), id);
            }
            if (n != null) {
                if (flat) {
                    marker.markFlat(n);
                } else {
                    marker.mark(n);
                }
            }
            return null;
        });
        // roots: images, containers
        tx.query("SELECT ns, digest FROM images", rs -> {
            marker.mark(Node.content(rs.getString(1), rs.getString(2)));
            return null;
        });
        tx.query("SELECT ns, snapshotter, snapshot_key, labels FROM containers", rs -> {
            String ns = rs.getString(1);
            if (!rs.getString(2).isEmpty() && !rs.getString(3).isEmpty()) {
                marker.mark(Node.snapshot(ns, rs.getString(2), rs.getString(3)));
            }
            marker.markRefs(ns, Codec.labels(rs.getString(4)));
            return null;
        });
        // roots: gc.root labels and live ingests
        content.forEach((n, labels) -> {
            if (labels.containsKey(Labels.GC_ROOT)) {
                marker.mark(n);
            }
        });
        snapshots.forEach((n, row) -> {
            if (row.labels.containsKey(Labels.GC_ROOT)) {
                marker.mark(n);
            }
        });
        ingests.forEach((n, row) -> {
            if (row.expireAt != null && row.expireAt > now) {
                marker.mark(n);
            }
        });
        marker.drain();

        // sweep
        List<String[]> removedContent = new ArrayList<>();
        for (Node n : content.keySet()) {
            if (!marker.reachable.contains(n)) {
                tx.update("DELETE FROM content WHERE ns = ? AND digest = ?", n.ns, n.a);
                removedContent.add(new String[] {n.ns, n.a});
            }
        }
        List<String[]> removedSnapshots = new ArrayList<>();
        for (Node n : snapshots.keySet()) {
            if (!marker.reachable.contains(n)) {
                tx.update("DELETE FROM snapshots WHERE ns = ? AND snapshotter = ? AND key = ?", n.ns, n.a, n.b);
                removedSnapshots.add(new String[] {n.ns, n.a, n.b});
            }
        }
        int removedIngests = 0;
        for (Node n : ingests.keySet()) {
            if (!marker.reachable.contains(n)) {
                tx.update("DELETE FROM ingests WHERE ns = ? AND ref = ?", n.ns, n.a);
                removedIngests++;
            }
        }
        for (String[] l : expiredLeases) {
            tx.update("DELETE FROM leases WHERE ns = ? AND id = ?", l[0], l[1]);
        }
        return new Removed(removedContent, removedSnapshots, removedIngests, expiredLeases.size());
    }

    /** Reachability over the reference graph; flat marks keep a node without following its edges. */
    private static final class Marker {
        final Set<Node> reachable = new HashSet<>();
        private final Set<Node> expanded = new HashSet<>();
        private final Deque<Node> gray = new ArrayDeque<>();
        private final Map<Node, Map<String, String>> content;
        private final Map<Node, SnapshotRow> snapshots;
        private final Map<Node, IngestRow> ingests;

        Marker(Map<Node, Map<String, String>> content, Map<Node, SnapshotRow> snapshots,
               Map<Node, IngestRow> ingests) {
            this.content = content;
            this.snapshots = snapshots;
            this.ingests = ingests;
        }

        void mark(Node n) {
            reachable.add(n);
            if (expanded.add(n)) {
                gray.add(n);
            }
        }

        void markFlat(Node n) {
            reachable.add(n);
        }

        void drain() {
            while (!gray.isEmpty()) {
                Node n = gray.poll();
                switch (n.type) {
                    case 'c' -> {
                        Map<String, String> labels = content.get(n);
                        if (labels != null) {
                            markRefs(n.ns, labels);
                        }
                    }
                    case 's' -> {
                        SnapshotRow row = snapshots.get(n);
                        if (row != null) {
                            if (row.parent != null) {
                                mark(Node.snapshot(n.ns, n.a, row.parent));
                            }
                            markRefs(n.ns, row.labels);
                        }
                    }
                    case 'i' -> {
                        IngestRow row = ingests.get(n);
                        if (row != null && row.expected != null) {
                            mark(Node.content(n.ns, row.expected));
                        }
                    }
                    default -> throw new IllegalStateException("unknown node type " + n.type);
                }
            }
        }

        void markRefs(String ns, Map<String, String> labels) {
            labels.forEach((k, v) -> {
                Node ref = refOf(ns, k, v);
                if (ref != null) {
                    mark(ref);
                }
            });
        }
    }

    /** The node a {@code containerd.io/gc.ref.*} label points at, or null for any other label. */
    static Node refOf(String ns, String key, String value) {
        if (key.startsWith(Labels.GC_REF_CONTENT)) {
            String rest = key.substring(Labels.GC_REF_CONTENT.length());
            if (rest.isEmpty() || rest.startsWith(".") || rest.startsWith("/")) {
                try {
                    return Node.content(ns, Digest.parse(value).toString());
                } catch (InvalidArgumentException e) {
                    return null;
                }
            }
            return null;
        }
        if (key.startsWith(Labels.GC_REF_SNAPSHOT)) {
            String rest = key.substring(Labels.GC_REF_SNAPSHOT.length());
            int slash = rest.indexOf('/');
            String snapshotter = slash < 0 ? rest : rest.substring(0, slash);
            if (!snapshotter.isEmpty() && !value.isEmpty()) {
                return Node.snapshot(ns, snapshotter, value);
            }
        }
        return null;
    }

    /** Deletes from the disk stores what no record references; returns blobs, snapshots, ingests removed. */
    private int[] sweepBackends(SqliteDb.Tx tx) throws SQLException {
        int blobs = 0;
        int aborted = 0;
        if (md.hasContent()) {
            ContentStore store = md.content();
            Set<String> used = new HashSet<>(tx.query(
                    "SELECT digest FROM content UNION SELECT expected FROM ingests WHERE expected IS NOT NULL",
                    rs -> rs.getString(1)));
            List<Digest> unused = new ArrayList<>();
            store.walk(i -> {
                if (!used.contains(i.digest().toString())) {
                    unused.add(i.digest());
                }
            });
            for (Digest d : unused) {
                try {
                    store.delete(d);
                    blobs++;
                } catch (NotFoundException e) {
                    // another collector got there first
                } catch (BerthException e) {
                    LOG.warn("cannot delete unreferenced blob {}: {}", d, e.getMessage());
                }
            }
            Set<String> refs = new HashSet<>(tx.query("SELECT backend_ref FROM ingests", rs -> rs.getString(1)));
            for (Status s : store.listStatuses()) {
                if (!refs.contains(s.ref())) {
                    try {
                        store.abort(s.ref());
                        aborted++;
                    } catch (BerthException e) {
                        // still held by a writer (its record expired under it) or already gone: next time
                        LOG.debug("ingest {} not aborted: {}", s.ref(), e.getMessage());
                    }
                }
            }
        }
        int snapshots = 0;
        for (Snapshotter sn : md.snapshotters().values()) {
            snapshots += sweepSnapshotter(tx, sn);
        }
        return new int[] {blobs, snapshots, aborted};
    }

    private int sweepSnapshotter(SqliteDb.Tx tx, Snapshotter sn) throws SQLException {
        Set<String> used = new HashSet<>(tx.query("SELECT backend_key FROM snapshots WHERE snapshotter = ?",
                rs -> rs.getString(1), sn.name()));
        Map<String, String> parents = new HashMap<>();
        List<String> unused = new ArrayList<>();
        sn.walk(info -> {
            parents.put(info.name(), info.parent());
            if (!used.contains(info.name())) {
                unused.add(info.name());
            }
        });
        Map<String, Integer> depth = new HashMap<>();
        for (String k : unused) {
            depth.put(k, depthOf(k, parents));
        }
        unused.sort(Comparator.comparing((String k) -> depth.get(k)).reversed());
        int removed = 0;
        for (String k : unused) {
            try {
                sn.remove(k);
                removed++;
            } catch (NotFoundException e) {
                // already gone
            } catch (BerthException e) {
                LOG.warn("snapshotter {}: cannot remove unreferenced snapshot {}: {}", sn.name(), k, e.getMessage());
            }
        }
        return removed;
    }

    private static int depthOf(String key, Map<String, String> parents) {
        int d = 0;
        String p = parents.get(key);
        Set<String> seen = new HashSet<>();
        while (p != null && seen.add(p)) {
            d++;
            p = parents.get(p);
        }
        return d;
    }
}
