package dev.berth.metadata.internal;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import dev.berth.api.content.ContentStore;
import dev.berth.api.content.Info;
import dev.berth.api.content.ReaderAt;
import dev.berth.api.content.Status;
import dev.berth.api.content.Writer;
import dev.berth.api.event.ContentEvent;
import dev.berth.api.filter.FieldPaths;
import dev.berth.api.filter.Filter;
import dev.berth.sys.sqlite.SqliteDb;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One namespace's view of the shared blob store (containerd's {@code metadata/content.go}). Blobs are
 * stored once on disk; a namespace sees a blob only once it was committed there. With containerd's
 * "shared" policy, a writer whose expected blob is already on disk (committed in another namespace)
 * starts out complete: committing it is instant. Labels live here, per namespace, so {@link #update}
 * works although the disk store keeps none.
 *
 * <p>Ingest refs are per namespace too: ref {@code r} of namespace {@code n} is ingest
 * {@code n/<seq>/r} on disk. An ingest not under a lease expires after 24 hours (GC then removes it).
 */
public final class MetaContentStore implements ContentStore {
    static final Duration INGEST_EXPIRY = Duration.ofHours(24);

    private final NamespacedMetadata ns;
    private final ContentStore backend;

    MetaContentStore(NamespacedMetadata ns) {
        this.ns = ns;
        this.backend = ns.metadata().content();
    }

    private static Info row(ResultSet rs) throws SQLException {
        return new Info(Digest.parse(rs.getString("digest")), rs.getLong("size"),
                Codec.instant(rs.getLong("created_ns")), Codec.instant(rs.getLong("updated_ns")),
                Codec.labels(rs.getString("labels")));
    }

    private Optional<Info> find(SqliteDb.Tx tx, Digest digest) throws SQLException {
        return tx.one("SELECT * FROM content WHERE ns = ? AND digest = ?", MetaContentStore::row, ns.name(),
                digest.toString());
    }

    private NotFoundException notFound(Digest digest) {
        return new NotFoundException("content " + digest + ": not found in namespace " + ns.name());
    }

    @Override
    public Info info(Digest digest) {
        Objects.requireNonNull(digest, "digest");
        return ns.db().read(tx -> find(tx, digest)).orElseThrow(() -> notFound(digest));
    }

    @Override
    public Info update(Info info, String... fieldPaths) {
        Objects.requireNonNull(info, "info");
        return ns.db().write(tx -> {
            Info cur = find(tx, info.digest()).orElseThrow(() -> notFound(info.digest()));
            Map<String, String> labels = LabelPaths.update(cur.labels(), info.labels(), "content " + info.digest(),
                    fieldPaths);
            tx.update("UPDATE content SET labels = ?, updated_ns = ? WHERE ns = ? AND digest = ?",
                    Codec.labels(labels), Codec.nanos(Instant.now()), ns.name(), info.digest().toString());
            return find(tx, info.digest()).orElseThrow();
        });
    }

    @Override
    public void walk(Consumer<Info> fn, String... filters) {
        Filter filter = Filter.parse(filters);
        List<Info> all = ns.db().read(tx -> tx.query("SELECT * FROM content WHERE ns = ? ORDER BY digest",
                MetaContentStore::row, ns.name()));
        for (Info i : all) {
            if (filter.matches(fields(i))) {
                fn.accept(i);
            }
        }
    }

    static Filter.FieldPathAdaptor fields(Info i) {
        return FieldPaths.builder()
                .field("digest", i.digest().toString())
                .field("size", Long.toString(i.size()))
                .map("labels", i.labels())
                .build();
    }

    /**
     * Removes the blob from this namespace. The bytes stay on disk while another namespace has it and are
     * removed by garbage collection once none does.
     */
    @Override
    public void delete(Digest digest) {
        Objects.requireNonNull(digest, "digest");
        ns.db().write(tx -> {
            if (tx.update("DELETE FROM content WHERE ns = ? AND digest = ?", ns.name(), digest.toString()) == 0) {
                throw notFound(digest);
            }
            return null;
        });
        ns.metadata().publish(ns.name(), new ContentEvent.Delete(digest));
        ns.metadata().noteDeletion();
    }

    @Override
    public ReaderAt readerAt(Descriptor desc) {
        Objects.requireNonNull(desc, "desc");
        info(desc.digest());
        return backend.readerAt(desc);
    }

    @Override
    public Info verify(Digest digest) {
        Info info = info(digest);
        backend.verify(digest);
        return info;
    }

    // ----- ingests -----

    private record Opened(String backendRef, boolean existsHere, Descriptor shared) {
    }

    /**
     * Opens (or resumes) ingest {@code ref} in this namespace, adding it to the current lease.
     *
     * @throws AlreadyExistsException if {@code expected} is already committed in this namespace (it is
     *         added to the current lease first, as containerd does)
     */
    @Override
    public Writer writer(String ref, Descriptor expected) {
        requireRef(ref);
        Opened opened = ns.db().write(tx -> {
            ns.metadata().ensureNamespace(tx, ns.name());
            Descriptor shared = null;
            if (expected != null) {
                if (find(tx, expected.digest()).isPresent()) {
                    ns.addToCurrentLease(tx, "content", expected.digest().toString());
                    return new Opened(null, true, null);
                }
                shared = onDisk(expected);
            }
            String bref = recordIngest(tx, ref, expected);
            return new Opened(bref, false, shared);
        });
        if (opened.existsHere) {
            throw new AlreadyExistsException("content " + expected.digest() + ": already exists in namespace "
                    + ns.name());
        }
        if (opened.shared != null) {
            return new NamespacedWriter(this, ref, opened.backendRef, null, opened.shared);
        }
        try {
            return new NamespacedWriter(this, ref, opened.backendRef, backend.writer(opened.backendRef, expected),
                    null);
        } catch (AlreadyExistsException e) {
            // committed on disk (by another namespace or process) since we looked: share it
            Descriptor shared = onDisk(expected);
            if (shared == null) {
                throw e;
            }
            ns.db().write(tx -> tx.update("UPDATE ingests SET expected = ? WHERE ns = ? AND ref = ?",
                    expected.digest().toString(), ns.name(), ref));
            return new NamespacedWriter(this, ref, opened.backendRef, null, shared);
        }
    }

    /** The expected blob as stored on disk, if it is there with a compatible size. */
    private Descriptor onDisk(Descriptor expected) {
        try {
            Info on = backend.info(expected.digest());
            if (expected.size() == 0 || expected.size() == on.size()) {
                return new Descriptor(expected.mediaType(), expected.digest(), on.size());
            }
        } catch (NotFoundException e) {
            // not stored anywhere yet
        }
        return null;
    }

    /** Creates or refreshes the ingest record; returns its backend ref. */
    private String recordIngest(SqliteDb.Tx tx, String ref, Descriptor expected) throws SQLException {
        boolean leased = ns.currentLease().isPresent();
        Long expireAt = leased ? null : Codec.nanos(Instant.now().plus(INGEST_EXPIRY));
        String expectedDigest = expected == null ? null : expected.digest().toString();
        Optional<String> existing = tx.one("SELECT backend_ref FROM ingests WHERE ns = ? AND ref = ?",
                rs -> rs.getString(1), ns.name(), ref);
        String bref;
        if (existing.isPresent()) {
            bref = existing.get();
            tx.update("UPDATE ingests SET expire_at_ns = CASE WHEN ? IS NULL THEN expire_at_ns ELSE ? END,"
                            + " expected = coalesce(?, expected) WHERE ns = ? AND ref = ?",
                    expireAt, expireAt, expectedDigest, ns.name(), ref);
        } else {
            bref = ns.name() + "/" + MetaDb.nextSequence(tx, "ingest") + "/" + ref;
            tx.update("INSERT INTO ingests(ns, ref, backend_ref, expire_at_ns, expected, created_ns)"
                            + " VALUES (?, ?, ?, ?, ?, ?)",
                    ns.name(), ref, bref, expireAt, expectedDigest, Codec.nanos(Instant.now()));
        }
        ns.addToCurrentLease(tx, "ingests", ref);
        return bref;
    }

    private record IngestRow(String ref, String backendRef, String expected, Instant createdAt) {
    }

    private static IngestRow ingestRow(ResultSet rs) throws SQLException {
        return new IngestRow(rs.getString("ref"), rs.getString("backend_ref"), rs.getString("expected"),
                Codec.instant(rs.getLong("created_ns")));
    }

    @Override
    public Status status(String ref) {
        requireRef(ref);
        IngestRow row = ns.db().read(tx -> tx.one("SELECT * FROM ingests WHERE ns = ? AND ref = ?",
                MetaContentStore::ingestRow, ns.name(), ref))
                .orElseThrow(() -> new NotFoundException("ingest " + ref + ": not found in namespace " + ns.name()));
        return statusOf(row);
    }

    private Status statusOf(IngestRow row) {
        Digest expected = row.expected == null ? null : Digest.parse(row.expected);
        try {
            Status s = backend.status(row.backendRef);
            return new Status(row.ref, s.offset(), s.total(), expected, s.startedAt(), s.updatedAt());
        } catch (NotFoundException e) {
            // nothing written to disk: a shared ingest is complete, anything else has not started
            if (expected != null) {
                try {
                    long size = backend.info(expected).size();
                    return new Status(row.ref, size, size, expected, row.createdAt, row.createdAt);
                } catch (NotFoundException gone) {
                    // fall through
                }
            }
            return new Status(row.ref, 0, 0, expected, row.createdAt, row.createdAt);
        }
    }

    @Override
    public List<Status> listStatuses(String... filters) {
        Filter filter = Filter.parse(filters);
        List<IngestRow> rows = ns.db().read(tx -> tx.query("SELECT * FROM ingests WHERE ns = ? ORDER BY ref",
                MetaContentStore::ingestRow, ns.name()));
        List<Status> out = new ArrayList<>();
        for (IngestRow r : rows) {
            if (filter.matches(FieldPaths.builder().field("ref", r.ref).build())) {
                out.add(statusOf(r));
            }
        }
        return out;
    }

    /**
     * Drops the ingest and its data.
     *
     * @throws UnavailableException if a writer still holds it (the record is kept)
     */
    @Override
    public void abort(String ref) {
        requireRef(ref);
        ns.db().write(tx -> {
            String bref = tx.one("SELECT backend_ref FROM ingests WHERE ns = ? AND ref = ?", rs -> rs.getString(1),
                    ns.name(), ref)
                    .orElseThrow(() -> new NotFoundException("ingest " + ref + ": not found in namespace "
                            + ns.name()));
            try {
                backend.abort(bref);
            } catch (NotFoundException e) {
                // nothing was written to disk
            }
            tx.update("DELETE FROM ingests WHERE ns = ? AND ref = ?", ns.name(), ref);
            return null;
        });
    }

    /** Nothing to release: the shared store belongs to the {@link Metadata}. */
    @Override
    public void close() {
    }

    private static void requireRef(String ref) {
        if (ref == null || ref.isEmpty()) {
            throw new InvalidArgumentException("ingest ref must not be empty");
        }
    }

    // ----- commit, called by NamespacedWriter -----

    /**
     * Records a blob in this namespace. For a writer with data, the disk commit happens inside the
     * metadata transaction, so a concurrent garbage collection (which takes the same lock) never sees
     * the blob on disk without its record.
     */
    Digest commit(NamespacedWriter w, long size, Digest expected, Map<String, String> labels) {
        Labels.validate(labels);
        Writer data = w.backendWriter();
        Descriptor shared = w.sharedDescriptor();
        if (data == null) {
            if (size > 0 && size != shared.size()) {
                throw new FailedPreconditionException("unexpected commit size " + shared.size() + ", expected " + size
                        + " (ingest " + w.ref() + ")");
            }
            if (expected != null && !expected.equals(shared.digest())) {
                throw new FailedPreconditionException("unexpected commit digest " + shared.digest() + ", expected "
                        + expected + " (ingest " + w.ref() + ")");
            }
        }
        Digest before = data == null ? shared.digest() : data.digest();
        boolean[] existed = {false};
        Digest committed = ns.db().write(tx -> {
            Digest d;
            if (data == null) {
                d = shared.digest();
                try {
                    backend.info(d);
                } catch (NotFoundException e) {
                    throw new FailedPreconditionException("content " + d + " disappeared from disk before ingest "
                            + w.ref() + " committed it", e);
                }
            } else {
                try {
                    d = data.commit(size, expected, Map.of());
                } catch (AlreadyExistsException e) {
                    // the same bytes were committed on disk by someone else: ours are equal, record them
                    d = expected != null ? expected : before;
                }
            }
            long blobSize = backend.info(d).size();
            tx.update("DELETE FROM ingests WHERE ns = ? AND ref = ?", ns.name(), w.ref());
            if (find(tx, d).isPresent()) {
                existed[0] = true;
            } else {
                long now = Codec.nanos(Instant.now());
                tx.update("INSERT INTO content(ns, digest, size, labels, created_ns, updated_ns)"
                        + " VALUES (?, ?, ?, ?, ?, ?)", ns.name(), d.toString(), blobSize,
                        Codec.labels(LabelPaths.withoutEmptyValues(labels)), now, now);
            }
            ns.removeFromCurrentLease(tx, "ingests", w.ref());
            ns.addToCurrentLease(tx, "content", d.toString());
            return d;
        });
        ns.metadata().noteMutation();
        if (existed[0]) {
            throw new AlreadyExistsException("content " + committed + ": already exists in namespace " + ns.name());
        }
        return committed;
    }

    ContentStore backend() {
        return backend;
    }

    String namespace() {
        return ns.name();
    }
}
