package dev.berth.content;

import dev.berth.api.ClosedException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.NotFoundException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.content.ContentStore;
import dev.berth.api.content.Info;
import dev.berth.api.content.ReaderAt;
import dev.berth.api.content.Status;
import dev.berth.api.content.Writer;
import dev.berth.api.filter.Filter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ContentStore} in a directory, laid out exactly as containerd's local store so either can read
 * what the other wrote:
 * <pre>
 *   &lt;root&gt;/blobs/&lt;alg&gt;/&lt;hex&gt;          committed blobs, mode 0444, mtime = commit time
 *   &lt;root&gt;/ingest/&lt;sha256(ref)&gt;/ref      the ingest's ref
 *                              /data     bytes written so far (its size is the offset)
 *                              /total    expected size, when known
 *                              /startedat, /updatedat   RFC 3339 text as Go's time.MarshalText
 *   &lt;root&gt;/locks/&lt;sha256(ref)&gt;         lock files (Berth only; containerd ignores them)
 * </pre>
 *
 * <p><b>Sharing.</b> Several threads and several processes may use one root at once. A ref is held by
 * one writer at a time, in this JVM or any other: the second gets {@link dev.berth.api.UnavailableException}
 * ({@link Content#openWriter} waits for it instead). Locks are POSIX record locks, so a killed process
 * releases its refs. A crash at any moment leaves each ingest resumable and each blob either absent or
 * complete: commit fsyncs the data, then hard-links it into {@code blobs/} (which, unlike a rename, never
 * replaces a blob another writer committed meanwhile), then removes the ingest.
 *
 * <p><b>Labels.</b> This store keeps none, exactly like containerd's bare local store: {@link #update}
 * throws {@link NotImplementedException}, {@link Info#labels()} is empty, and a commit that passes labels
 * is refused. Labels are per namespace and change transactionally with images and leases, so they live in
 * the metadata database that wraps this store; a second copy here could only drift from it.
 *
 * <p><b>Times.</b> {@link Info#createdAt()} and {@link Info#updatedAt()} are both the blob file's mtime,
 * set at commit: blobs never change after that (containerd reports the access time as "updated", which
 * any read moves).
 *
 * <p>All methods are thread-safe. Blob bytes are never held on the heap; they move through a few large
 * direct buffers and are hashed while they are written.
 */
public final class LocalContentStore implements ContentStore {
    private static final Logger LOG = LoggerFactory.getLogger(LocalContentStore.class);

    private final Path root;
    private final Path blobs;
    private final Path ingests;
    private final Path locks;
    private final DigestStateCache digestStates = new DigestStateCache();
    private final Set<LocalWriter> writers = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private LocalContentStore(Path root) {
        this.root = root;
        this.blobs = root.resolve("blobs");
        this.ingests = root.resolve("ingest");
        this.locks = root.resolve("locks");
    }

    /**
     * Opens (creating if needed) the store rooted at {@code root}, e.g. containerd's
     * {@code /var/lib/containerd/io.containerd.content.v1.content}.
     */
    public static LocalContentStore open(Path root) {
        Objects.requireNonNull(root, "root");
        try {
            Files.createDirectories(root, FileModes.SHARED_DIR);
            Files.createDirectories(root.resolve("ingest"), FileModes.PRIVATE_DIR);
            // one spelling per root, so the JVM-wide lock table sees one key per ref
            return new LocalContentStore(root.toRealPath());
        } catch (IOException e) {
            throw new IoFailureException("cannot open content store at " + root + ": " + e, e);
        }
    }

    /** The store's root directory (its real path). */
    public Path root() {
        return root;
    }

    @Override
    public Info info(Digest digest) {
        Objects.requireNonNull(digest, "digest");
        ensureOpen();
        try {
            return info(digest, Files.readAttributes(blobPath(digest), BasicFileAttributes.class));
        } catch (NoSuchFileException e) {
            throw notFound(digest);
        } catch (IOException e) {
            throw new IoFailureException("content " + digest + ": " + e, e);
        }
    }

    private static Info info(Digest digest, BasicFileAttributes attrs) {
        Instant modified = attrs.lastModifiedTime().toInstant();
        return new Info(digest, attrs.size(), modified, modified, Map.of());
    }

    /** Always throws: see the class comment on labels. */
    @Override
    public Info update(Info info, String... fieldPaths) {
        throw new NotImplementedException("content " + (info == null ? "" : info.digest() + " ")
                + ": the local content store at " + root + " keeps no labels; the metadata layer does");
    }

    /**
     * Calls {@code fn} for each committed blob, by algorithm then digest. Filter fields: {@code digest},
     * {@code size} (decimal), {@code labels.<key>} (never present here). Directories of algorithms Berth
     * does not support, and files whose names are not digests, are skipped.
     */
    @Override
    public void walk(Consumer<Info> fn, String... filters) {
        Objects.requireNonNull(fn, "fn");
        Filter filter = filters == null || filters.length == 0 ? Filter.always() : Filter.parse(filters);
        ensureOpen();
        for (Path algorithmDir : sortedEntries(blobs)) {
            String algorithm = algorithmDir.getFileName().toString();
            if (!Digest.isSupported(algorithm)) {
                LOG.debug("walk: skipping {}: unsupported digest algorithm", algorithmDir);
                continue;
            }
            for (Path blob : sortedEntries(algorithmDir)) {
                Digest digest;
                try {
                    digest = new Digest(algorithm, blob.getFileName().toString());
                } catch (InvalidArgumentException e) {
                    LOG.warn("walk: {} is not a blob: {}", blob, e.getMessage());
                    continue;
                }
                BasicFileAttributes attrs;
                try {
                    attrs = Files.readAttributes(blob, BasicFileAttributes.class);
                } catch (NoSuchFileException e) {
                    continue; // deleted while walking
                } catch (IOException e) {
                    throw new IoFailureException("walk: cannot read " + blob + ": " + e, e);
                }
                if (!attrs.isRegularFile()) {
                    continue;
                }
                Info info = info(digest, attrs);
                if (filter.matches(fieldsOf(info))) {
                    fn.accept(info);
                }
            }
        }
    }

    static Filter.FieldPathAdaptor fieldsOf(Info info) {
        return path -> {
            if (path.isEmpty()) {
                return Optional.empty();
            }
            return switch (path.get(0)) {
                case "digest" -> Optional.of(info.digest().toString());
                case "size" -> Optional.of(Long.toString(info.size()));
                case "labels" -> path.size() < 2 ? Optional.empty()
                        : Optional.ofNullable(info.labels().get(String.join(".", path.subList(1, path.size()))));
                default -> Optional.empty();
            };
        };
    }

    static Filter.FieldPathAdaptor fieldsOf(Status status) {
        return path -> path.size() == 1 && path.get(0).equals("ref") ? Optional.of(status.ref()) : Optional.empty();
    }

    private static List<Path> sortedEntries(Path dir) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            entries.forEach(out::add);
        } catch (NoSuchFileException e) {
            return out;
        } catch (IOException e) {
            throw new IoFailureException("cannot list " + dir + ": " + e, e);
        }
        out.sort(Comparator.comparing(p -> p.getFileName().toString()));
        return out;
    }

    /** Removes a blob. Readers that have it open keep reading it. */
    @Override
    public void delete(Digest digest) {
        Objects.requireNonNull(digest, "digest");
        ensureOpen();
        try {
            Files.delete(blobPath(digest));
        } catch (NoSuchFileException e) {
            throw notFound(digest);
        } catch (IOException e) {
            throw new IoFailureException("cannot delete content " + digest + ": " + e, e);
        }
    }

    @Override
    public ReaderAt readerAt(Descriptor desc) {
        Objects.requireNonNull(desc, "desc");
        ensureOpen();
        Digest digest = desc.digest();
        try {
            return new BlobReader(digest, FileChannel.open(blobPath(digest), StandardOpenOption.READ));
        } catch (NoSuchFileException e) {
            throw notFound(digest);
        } catch (IOException e) {
            throw new IoFailureException("cannot open content " + digest + ": " + e, e);
        }
    }

    /**
     * Opens the ingest {@code ref}, resuming it when it exists: its {@code data} is re-hashed (or its hash
     * state reused if this JVM closed it) and writing continues at its end. An ingest recorded under
     * another ref or another expected total, or longer than that total, is logged and started over.
     *
     * <p>With {@code expected} given, the writer hashes with its digest's algorithm and records its size
     * as the total.
     *
     * @throws dev.berth.api.AlreadyExistsException if {@code expected}'s digest is already committed, before
     *         anything is written
     * @throws dev.berth.api.UnavailableException if another writer, in any process, holds {@code ref}
     * @throws InvalidArgumentException if {@code ref} is empty
     */
    @Override
    public Writer writer(String ref, Descriptor expected) {
        requireRef(ref);
        ensureOpen();
        if (expected != null) {
            failIfCommitted(expected.digest());
        }
        IngestDir ingest = ingestDir(ref);
        RefLock lock = RefLock.acquire(lockFile(ingest), ref);
        try {
            if (expected != null) {
                failIfCommitted(expected.digest()); // committed while we were taking the lock
            }
            LocalWriter writer = openIngest(ref, ingest, lock, expected);
            writers.add(writer);
            if (closed) {
                writer.close();
                ensureOpen();
            }
            return writer;
        } catch (RuntimeException | Error e) {
            lock.release(!Files.exists(ingest.dir()));
            throw e;
        }
    }

    private void failIfCommitted(Digest digest) {
        if (Files.exists(blobPath(digest))) {
            throw new dev.berth.api.AlreadyExistsException("content " + digest + ": already exists");
        }
    }

    private LocalWriter openIngest(String ref, IngestDir ingest, RefLock lock, Descriptor expected) {
        Digest expectedDigest = expected == null ? null : expected.digest();
        String algorithm = expectedDigest == null ? Digest.SHA256 : expectedDigest.algorithm();
        long total = expected == null ? 0 : expected.size();
        try {
            if (Files.exists(ingest.dir())) {
                LocalWriter resumed = resume(ref, ingest, lock, expectedDigest, algorithm, total);
                if (resumed != null) {
                    return resumed;
                }
                ingest.delete();
            }
            return create(ref, ingest, lock, expectedDigest, algorithm, total);
        } catch (IOException e) {
            throw new IoFailureException("ingest " + ref + " (" + ingest.dir() + "): cannot open: " + e, e);
        }
    }

    private LocalWriter resume(String ref, IngestDir ingest, RefLock lock, Digest expectedDigest,
                               String algorithm, long total) throws IOException {
        String recordedRef;
        BasicFileAttributes attrs;
        try {
            recordedRef = ingest.readRef();
            attrs = Files.readAttributes(ingest.data(), BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return startOver(ref, ingest, "it is incomplete (" + e.getFile() + " is missing)");
        }
        if (!recordedRef.equals(ref)) {
            return startOver(ref, ingest, "it was recorded for ref " + recordedRef);
        }
        long recordedTotal = ingest.readTotal();
        if (total > 0 && recordedTotal > 0 && total != recordedTotal) {
            return startOver(ref, ingest, "its recorded total " + recordedTotal + " differs from the expected "
                    + total);
        }
        long effectiveTotal = recordedTotal > 0 ? recordedTotal : total;
        if (effectiveTotal > 0 && attrs.size() > effectiveTotal) {
            return startOver(ref, ingest, "it holds " + attrs.size() + " bytes, more than its total "
                    + effectiveTotal);
        }
        if (recordedTotal == 0 && total > 0) {
            ingest.writeTotal(total);
        }
        Status recorded = ingest.readStatus();
        Path data = ingest.data();
        ensureOwnerWritable(data); // a crash after commit's chmod leaves it read-only
        MessageDigest md = digestStates.recall(data, attrs, algorithm);
        long offset = attrs.size();
        if (md == null) {
            md = newMessageDigest(algorithm);
            offset = hashInto(data, md);
        }
        FileChannel ch = FileChannel.open(data, StandardOpenOption.WRITE);
        LOG.debug("ingest {}: resuming at offset {}", ref, offset);
        return new LocalWriter(this, ref, ingest, lock, expectedDigest, algorithm, md, ch, offset, effectiveTotal,
                recorded.startedAt(), recorded.updatedAt());
    }

    private static LocalWriter startOver(String ref, IngestDir ingest, String reason) {
        LOG.info("ingest {} ({}): {}; starting over", ref, ingest.dir(), reason);
        return null;
    }

    private static void ensureOwnerWritable(Path data) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(data);
        if (perms.add(PosixFilePermission.OWNER_WRITE)) {
            Files.setPosixFilePermissions(data, perms);
        }
    }

    private LocalWriter create(String ref, IngestDir ingest, RefLock lock, Digest expectedDigest, String algorithm,
                               long total) throws IOException {
        Files.createDirectories(ingests, FileModes.PRIVATE_DIR);
        Files.createDirectory(ingest.dir(), FileModes.PRIVATE_DIR);
        try {
            Instant now = Instant.now();
            Files.write(Files.createFile(ingest.file(IngestDir.REF), FileModes.PRIVATE_FILE),
                    ref.getBytes(StandardCharsets.UTF_8));
            ingest.writeTimestamp(IngestDir.STARTED_AT, now);
            ingest.writeTimestamp(IngestDir.UPDATED_AT, now);
            if (total > 0) {
                ingest.writeTotal(total);
            }
            // data last: an ingest directory without data is one whose creation was cut short
            FileChannel ch = FileChannel.open(ingest.data(), Set.of(StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE), FileModes.PRIVATE_FILE);
            return new LocalWriter(this, ref, ingest, lock, expectedDigest, algorithm,
                    newMessageDigest(algorithm), ch, 0, total, now, now);
        } catch (IOException | RuntimeException e) {
            try {
                ingest.delete();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The ingest as recorded on disk; {@link Status#expected()} is null (containerd's layout lacks it). */
    @Override
    public Status status(String ref) {
        requireRef(ref);
        ensureOpen();
        IngestDir ingest = ingestDir(ref);
        try {
            Status status = ingest.readStatus();
            if (!status.ref().equals(ref)) {
                throw new NotFoundException("ingest " + ref + ": not found");
            }
            return status;
        } catch (NoSuchFileException e) {
            throw new NotFoundException("ingest " + ref + ": not found");
        } catch (IOException e) {
            throw new IoFailureException("ingest " + ref + " (" + ingest.dir() + "): " + e, e);
        }
    }

    /** Ingests on disk, ordered by ref; filter field {@code ref}. Incomplete ingest directories are skipped. */
    @Override
    public List<Status> listStatuses(String... filters) {
        Filter filter = filters == null || filters.length == 0 ? Filter.always() : Filter.parse(filters);
        ensureOpen();
        List<Status> out = new ArrayList<>();
        for (Path dir : sortedEntries(ingests)) {
            Status status;
            try {
                status = new IngestDir(dir).readStatus();
            } catch (IOException e) {
                LOG.debug("skipping ingest directory {}: {}", dir, e.toString());
                continue;
            }
            if (filter.matches(fieldsOf(status))) {
                out.add(status);
            }
        }
        out.sort(Comparator.comparing(Status::ref));
        return out;
    }

    /**
     * Removes the ingest {@code ref} and its data.
     *
     * @throws dev.berth.api.UnavailableException if a writer (in any process) holds it: close that first
     * @throws NotFoundException if there is none
     */
    @Override
    public void abort(String ref) {
        requireRef(ref);
        ensureOpen();
        IngestDir ingest = ingestDir(ref);
        RefLock lock = RefLock.acquire(lockFile(ingest), ref);
        boolean removed = false;
        try {
            if (!Files.exists(ingest.dir())) {
                removed = true;
                throw new NotFoundException("ingest " + ref + ": not found");
            }
            digestStates.forget(ingest.data());
            ingest.delete();
            removed = true;
        } catch (IOException e) {
            throw new IoFailureException("ingest " + ref + ": cannot remove " + ingest.dir() + ": " + e, e);
        } finally {
            lock.release(removed);
        }
    }

    @Override
    public Info verify(Digest digest) {
        Objects.requireNonNull(digest, "digest");
        ensureOpen();
        Path blob = blobPath(digest);
        try {
            Info info = info(digest, Files.readAttributes(blob, BasicFileAttributes.class));
            Digest actual = hashFile(blob, digest.algorithm());
            if (!actual.equals(digest)) {
                throw new FailedPreconditionException("content " + digest + " is corrupt: its bytes hash to "
                        + actual + " (" + blob + ")");
            }
            return info;
        } catch (NoSuchFileException e) {
            throw notFound(digest);
        } catch (IOException e) {
            throw new IoFailureException("cannot verify content " + digest + ": " + e, e);
        }
    }

    /** Closes this instance's open writers (their ingests stay resumable) and drops its caches. */
    @Override
    public void close() {
        closed = true;
        for (LocalWriter writer : writers) {
            writer.close();
        }
        digestStates.clear();
    }

    @Override
    public String toString() {
        return "LocalContentStore[" + root + "]";
    }

    Path blobPath(Digest digest) {
        // Digest admits only sha256/sha512 and lower-case hex, so both parts are safe path components
        return blobs.resolve(digest.algorithm()).resolve(digest.hex());
    }

    private IngestDir ingestDir(String ref) {
        return new IngestDir(ingests.resolve(IngestDir.nameOf(ref)));
    }

    private Path lockFile(IngestDir ingest) {
        return locks.resolve(ingest.dir().getFileName().toString());
    }

    DigestStateCache digestStates() {
        return digestStates;
    }

    void writerClosed(LocalWriter writer) {
        writers.remove(writer);
    }

    private void ensureOpen() {
        if (closed) {
            throw new ClosedException("content store " + root);
        }
    }

    private static void requireRef(String ref) {
        if (ref == null || ref.isEmpty()) {
            throw new InvalidArgumentException("ref must not be empty");
        }
    }

    private static NotFoundException notFound(Digest digest) {
        return new NotFoundException("content " + digest + ": not found");
    }

    static MessageDigest newMessageDigest(String algorithm) {
        String jca = switch (algorithm) {
            case Digest.SHA256 -> "SHA-256";
            case Digest.SHA512 -> "SHA-512";
            default -> throw new InvalidArgumentException("unsupported digest algorithm \"" + algorithm + "\"");
        };
        try {
            return MessageDigest.getInstance(jca);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks " + jca, e);
        }
    }

    /** The digest so far, leaving {@code md} able to continue. */
    static Digest digestOf(String algorithm, MessageDigest md) {
        try {
            return new Digest(algorithm, HexFormat.of().formatHex(((MessageDigest) md.clone()).digest()));
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(algorithm + " state cannot be copied", e);
        }
    }

    static Digest hashFile(Path file, String algorithm) throws IOException {
        MessageDigest md = newMessageDigest(algorithm);
        hashInto(file, md);
        return new Digest(algorithm, HexFormat.of().formatHex(md.digest()));
    }

    /** Feeds the whole file to {@code md}; returns its length. */
    static long hashInto(Path file, MessageDigest md) throws IOException {
        ByteBuffer buffer = TransferBuffers.take();
        long count = 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buffer.clear()) >= 0) {
                count += buffer.flip().remaining();
                md.update(buffer);
            }
        } finally {
            TransferBuffers.give(buffer);
        }
        return count;
    }

    /** Makes a new directory entry durable; best effort where the file system cannot sync directories. */
    static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            LOG.debug("cannot fsync directory {}: {}", dir, e.toString());
        }
    }
}
