package dev.berth.api.content;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import java.util.List;
import java.util.function.Consumer;

/**
 * A content-addressed blob store: containerd's {@code content.Store}.
 *
 * <h2>Lifecycle of a blob</h2>
 * <ol>
 *   <li>{@link #writer(String, Descriptor)} opens an <em>ingest</em> under a caller-chosen {@code ref}.
 *       Only one writer may hold a ref at a time (also across processes sharing the root); a second gets
 *       {@link dev.berth.api.UnavailableException}. If the expected digest is already stored the call
 *       fails with {@link dev.berth.api.AlreadyExistsException} before any byte is written: the caller
 *       treats that as success.</li>
 *   <li>Bytes are written; {@link Writer#close()} without commit keeps the ingest so a later writer on the
 *       same ref resumes at {@link Status#offset()}.</li>
 *   <li>{@link Writer#commit} checks size and digest and atomically makes the blob visible under its
 *       digest; from then on the blob is immutable and readable with {@link #readerAt(Descriptor)}.</li>
 * </ol>
 * A crash at any point leaves either a committed, complete blob or a resumable ingest, never a partial
 * blob.
 *
 * <p>Implementations are thread-safe. Filters use the {@link dev.berth.api.filter.Filter} language over
 * fields {@code digest}, {@code size}, {@code labels.<key>} (blobs) and {@code ref} (ingests).
 */
public interface ContentStore extends AutoCloseable {

    /** Facts about a committed blob. @throws dev.berth.api.NotFoundException if absent */
    Info info(Digest digest);

    /**
     * Changes a blob's labels. With no field paths all labels are replaced by {@code info.labels()};
     * otherwise only {@code labels} or {@code labels.<key>} paths are applied (a key absent from
     * {@code info.labels()} is removed).
     *
     * @throws dev.berth.api.NotImplementedException if this store keeps no labels
     */
    Info update(Info info, String... fieldPaths);

    /** Calls {@code fn} for every committed blob matching the filters (all of them with none). */
    void walk(Consumer<Info> fn, String... filters);

    /** The committed blobs matching the filters. */
    default List<Info> list(String... filters) {
        List<Info> out = new java.util.ArrayList<>();
        walk(out::add, filters);
        return out;
    }

    /** Removes a committed blob. @throws dev.berth.api.NotFoundException if absent */
    void delete(Digest digest);

    /**
     * Opens a committed blob for random access. Only {@code desc.digest()} is used to find it; callers
     * that need the size checked compare {@link ReaderAt#size()} with {@code desc.size()}.
     *
     * @throws dev.berth.api.NotFoundException if absent
     */
    ReaderAt readerAt(Descriptor desc);

    /** Opens (or resumes) the ingest {@code ref}. {@code expected} may be null (size and digest unknown). */
    Writer writer(String ref, Descriptor expected);

    /** The state of an open or abandoned ingest. @throws dev.berth.api.NotFoundException if none */
    Status status(String ref);

    /** Ingests matching the filters (field {@code ref}). */
    List<Status> listStatuses(String... filters);

    /** Drops an ingest and its data. @throws dev.berth.api.NotFoundException if none */
    void abort(String ref);

    /**
     * Re-reads a committed blob and checks that it still hashes to its digest (an fsck for users).
     *
     * @return the blob's info when it verifies
     * @throws dev.berth.api.NotFoundException if absent
     * @throws dev.berth.api.FailedPreconditionException if the bytes no longer match, naming both digests
     */
    Info verify(Digest digest);

    /** Releases caches and locks held by this instance. Idempotent. */
    @Override
    void close();
}
