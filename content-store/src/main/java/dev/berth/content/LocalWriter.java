package dev.berth.content;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.BerthException;
import dev.berth.api.ClosedException;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.IoFailureException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.content.Status;
import dev.berth.api.content.Writer;
import dev.berth.api.internal.FaultPoints;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writer of one ingest. Bytes are hashed as they are written (one pass); {@link #commit} fsyncs,
 * checks, and hard-links {@code data} into {@code blobs/}, which fails instead of replacing a blob that
 * appeared meanwhile. Methods that touch the file or the digest are synchronized, so the store can close
 * writers from another thread; {@link #status()} is not, so progress can be polled during a long transfer.
 */
final class LocalWriter implements Writer {
    private static final Logger LOG = LoggerFactory.getLogger(LocalWriter.class);

    private static final long READ_AHEAD_THRESHOLD = 8L << 20;
    /** Hashes large transfers while the next chunk is written; daemon threads, idle ones end after 30 s. */
    private static final ExecutorService HASHER = hasher();

    private final LocalContentStore store;
    private final String ref;
    private final IngestDir ingest;
    private final RefLock lock;
    private final Digest expected;
    private final String algorithm;
    private final MessageDigest md;
    private final Instant startedAt;
    private final long total;
    // volatile: status() is read by progress reporters while another thread is inside a long transfer
    private volatile long offset;
    private volatile Instant updatedAt;
    private volatile FileChannel data;

    LocalWriter(LocalContentStore store, String ref, IngestDir ingest, RefLock lock, Digest expected,
                String algorithm, MessageDigest md, FileChannel data, long offset, long total,
                Instant startedAt, Instant updatedAt) {
        this.store = store;
        this.ref = ref;
        this.ingest = ingest;
        this.lock = lock;
        this.expected = expected;
        this.algorithm = algorithm;
        this.md = md;
        this.data = data;
        this.offset = offset;
        this.total = total;
        this.startedAt = startedAt;
        this.updatedAt = updatedAt;
    }

    @Override
    public synchronized int write(ByteBuffer src) {
        FileChannel ch = requireOpen("write to");
        int written = 0;
        try {
            while (src.hasRemaining()) {
                int start = src.position();
                int n = ch.write(src, offset);
                // hash exactly what reached the file, so digest and data never disagree
                hash(src, start, n);
                offset += n;
                written += n;
            }
            written(offset);
        } catch (IOException e) {
            throw failure("writing", e);
        } finally {
            if (written > 0) {
                updatedAt = Instant.now();
            }
        }
        return written;
    }

    private static ExecutorService hasher() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "berth-ingest-hash");
                    t.setDaemon(true);
                    return t;
                });
        return pool;
    }

    private void hash(ByteBuffer src, int start, int n) {
        if (src.hasArray()) {
            md.update(src.array(), src.arrayOffset() + start, n);
        } else {
            md.update(src.duplicate().limit(start + n).position(start));
        }
    }

    /**
     * Large transfers read the source on a second thread, about 2 MiB ahead (see {@link ReadAhead});
     * after a failure the source may therefore have been read further than what was appended.
     */
    @Override
    public synchronized long transferFrom(ReadableByteChannel src, long maxBytes) {
        requireOpen("write to");
        if (maxBytes >= READ_AHEAD_THRESHOLD && src instanceof FileChannel file
                && Boolean.parseBoolean(System.getProperty(FILE_COPY_PROPERTY, "true")) && seekable(file)) {
            return transferCopying(file, maxBytes);
        }
        return maxBytes >= READ_AHEAD_THRESHOLD ? transferReadingAhead(src, maxBytes) : transferInline(src, maxBytes);
    }

    /**
     * {@code -Dberth.content.fileCopy=false}: a large transfer from a file reads it into the JVM and writes it
     * out like any other source, instead of {@link #transferCopying} (A/B).
     */
    static final String FILE_COPY_PROPERTY = "berth.content.fileCopy";

    /**
     * Whether {@code file} is a file with bytes left by its size: not a pipe or terminal (no position), and not
     * a device or /proc file, which report size 0 however much they hold (transferTo copies only up to the size).
     */
    private static boolean seekable(FileChannel file) {
        try {
            return file.size() > file.position();
        } catch (IOException e) {
            return false;
        }
    }

    /** What {@link #transferCopying} copies per step: large, as each step hands over to the hashing thread. */
    private static final int COPY_CHUNK = 4 << 20;
    /** How far {@link #transferCopying}'s hashing thread has hashed the data file. */
    private volatile long hashedTo;

    /*
     * A large transfer from a file (bin/berth's `content ingest <file`): the kernel copies each 4 MiB chunk
     * from the source's page cache into the data file (FileChannel.transferTo: sendfile, no copy through the
     * JVM, whose writes from a user buffer took up to six times the system CPU of the kernel's copy on this
     * machine's VM), and a hashing thread reads the chunk back from the data file and hashes it while this
     * thread copies the next. What is hashed is what the data file holds, even if the source changes
     * meanwhile; after a failure the data file is cut back to what was hashed, so digest and offset still
     * agree. The source's position advances by what was copied, as a read would.
     */
    private long transferCopying(FileChannel src, long maxBytes) {
        FileChannel ch = requireOpen("write to");
        long srcStart;
        try {
            srcStart = src.position();
        } catch (IOException e) {
            throw failure("reading the source's position", e);
        }
        FileChannel back; // the writer's channel is write-only
        try {
            back = FileChannel.open(ingest.data(), java.nio.file.StandardOpenOption.READ);
        } catch (IOException e) {
            throw failure("opening its data file for reading", e);
        }
        ByteBuffer buffer = TransferBuffers.take(); // the hashing thread's only
        long done = 0;
        Future<?> hashing = null;
        hashedTo = offset;
        try {
            while (done < maxBytes) {
                long want = Math.min(COPY_CHUNK, maxBytes - done);
                long at = offset;
                long copied;
                try {
                    ch.position(at);
                    copied = src.transferTo(srcStart + done, want, ch);
                } catch (IOException e) {
                    Future<?> h = hashing;
                    hashing = null;
                    awaitHashBack(h);
                    throw failure("copying from the source", e); // cuts back what this copy wrote
                } finally {
                    updatedAt = Instant.now();
                }
                if (copied <= 0) {
                    break; // the end of the source
                }
                written(at + copied);
                Future<?> h = hashing;
                hashing = null;
                awaitHashBack(h);
                hashing = HASHER.submit(() -> hashBack(back, buffer, at, copied));
                offset = at + copied;
                done += copied;
            }
            Future<?> h = hashing;
            hashing = null;
            awaitHashBack(h);
            return done;
        } finally {
            awaitQuietly(hashing);
            closeQuietly(back);
            TransferBuffers.give(buffer);
            try {
                src.position(srcStart + done);
            } catch (IOException e) {
                LOG.debug("ingest {}: cannot advance the source's position: {}", ref, e.toString());
            }
        }
    }

    /** Steps whose write-back this writer started (for tests). */
    final java.util.concurrent.atomic.AtomicInteger writeBacksStarted = new java.util.concurrent.atomic.AtomicInteger();
    /** Opened at the first write (never for small blobs: their first step is the commit's fsync). */
    private EarlyWriteBack writeBack;
    private boolean writeBackTried;

    /** The data file now holds {@code end} bytes (see {@link EarlyWriteBack}). */
    private void written(long end) {
        if (!writeBackTried && end >= EarlyWriteBack.STEP) {
            writeBackTried = true;
            writeBack = EarlyWriteBack.open(ingest.data(), 0, HASHER, writeBacksStarted);
        }
        if (writeBack != null) {
            writeBack.writtenTo(end);
        }
    }

    private void closeWriteBack() {
        EarlyWriteBack w = writeBack;
        writeBack = null;
        if (w != null) {
            w.close();
        }
    }

    /**
     * Hashes {@code length} bytes of the data file from {@code at}, read through {@code buffer}; a piece is
     * hashed only once all of it was read, and {@link #hashedTo} follows each piece.
     */
    private void hashBack(FileChannel ch, ByteBuffer buffer, long at, long length) {
        long pos = at;
        long end = at + length;
        try {
            while (pos < end) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), end - pos));
                while (buffer.hasRemaining()) {
                    if (ch.read(buffer, pos + buffer.position()) < 0) {
                        throw new IOException("the data file ends at " + (pos + buffer.position()) + ", before " + end);
                    }
                }
                buffer.flip();
                md.update(buffer);
                pos += buffer.limit();
                hashedTo = pos;
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Waits for the hashing thread; if it failed, cuts the data file and offset back to what it hashed and throws. */
    private void awaitHashBack(Future<?> hashing) {
        Throwable cause = hashingFailure(hashing);
        if (cause != null) {
            offset = hashedTo;
            IOException io = cause instanceof java.io.UncheckedIOException u ? u.getCause()
                    : new IOException("hashing failed", cause);
            throw failure("reading back the data file", io);
        }
    }

    /*
     * Three stages overlap: the read-ahead thread reads chunk i+1 while this thread writes chunk i and a
     * hashing thread hashes chunk i-1 (each stage in order). A chunk is hashed only once all of it is in
     * the file; after a failed write the partial chunk is hashed here, so digest and offset still agree.
     */
    private long transferReadingAhead(ReadableByteChannel src, long maxBytes) {
        FileChannel ch = requireOpen("write to");
        ReadAhead ahead = new ReadAhead(src, maxBytes, "ingest " + ref);
        long done = 0;
        Future<?> hashing = null;
        ByteBuffer hashingChunk = null;
        try {
            ByteBuffer chunk;
            while ((chunk = ahead.next()) != null) {
                int start = chunk.position();
                int n = chunk.remaining();
                try {
                    while (chunk.hasRemaining()) {
                        offset += ch.write(chunk, offset);
                    }
                    written(offset);
                } catch (IOException e) {
                    awaitQuietly(hashing);
                    hashing = null;
                    hash(chunk, start, chunk.position() - start);
                    throw failure("writing", e);
                } finally {
                    updatedAt = Instant.now();
                }
                await(hashing);
                if (hashingChunk != null) {
                    ahead.recycle(hashingChunk);
                }
                ByteBuffer written = chunk.duplicate().position(start).limit(start + n);
                hashing = HASHER.submit(() -> md.update(written));
                hashingChunk = chunk;
                done += n;
            }
            await(hashing);
            hashing = null;
            return done;
        } finally {
            awaitQuietly(hashing);
            ahead.stop();
        }
    }

    private static void await(Future<?> hashing) {
        Throwable cause = hashingFailure(hashing);
        if (cause != null) {
            throw new IllegalStateException("hashing failed", cause);
        }
    }

    /**
     * Waits for {@code hashing} (null: nothing to wait for) without giving up on an interrupt, which is kept
     * for later: the digest must be complete before anything else touches it. Returns its failure, or null.
     */
    private static Throwable hashingFailure(Future<?> hashing) {
        if (hashing == null) {
            return null;
        }
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    hashing.get();
                    return null;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    return e.getCause();
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void awaitQuietly(Future<?> hashing) {
        try {
            await(hashing);
        } catch (RuntimeException e) {
            LOG.debug("hashing failed after an earlier failure", e);
        }
    }

    private long transferInline(ReadableByteChannel src, long maxBytes) {
        ByteBuffer buffer = TransferBuffers.take();
        long done = 0;
        try {
            while (done < maxBytes) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), maxBytes - done));
                IOException failure = null;
                boolean eof = false;
                try {
                    while (buffer.hasRemaining() && !eof) {
                        eof = src.read(buffer) < 0;
                    }
                } catch (IOException e) {
                    failure = e;
                }
                buffer.flip();
                int n = buffer.remaining();
                while (buffer.hasRemaining()) {
                    write(buffer); // what arrived before a failure is kept
                }
                done += n;
                if (failure != null) {
                    throw new IoFailureException("ingest " + ref + ": reading the source failed after " + done
                            + " bytes", failure);
                }
                if (eof) {
                    break;
                }
            }
        } finally {
            TransferBuffers.give(buffer);
        }
        return done;
    }

    @Override
    public OutputStream asOutputStream() {
        return new OutputStream() {
            @Override
            public void write(int b) {
                LocalWriter.this.write(ByteBuffer.wrap(new byte[] {(byte) b}));
            }

            @Override
            public void write(byte[] b, int off, int len) {
                LocalWriter.this.write(ByteBuffer.wrap(b, off, len));
            }
        };
    }

    @Override
    public synchronized Digest digest() {
        return LocalContentStore.digestOf(algorithm, md);
    }

    @Override
    public boolean isOpen() {
        return data != null;
    }

    @Override
    public Status status() {
        return new Status(ref, offset, total, expected, startedAt, updatedAt);
    }

    @Override
    public synchronized void truncate(long size) {
        if (size != 0) {
            throw new NotImplementedException("ingest " + ref + ": truncate to " + size
                    + " is not supported, only to 0");
        }
        FileChannel ch = requireOpen("truncate");
        try {
            ch.truncate(0);
        } catch (IOException e) {
            throw failure("truncating", e);
        }
        md.reset();
        offset = 0;
        written(0);
        updatedAt = Instant.now();
        store.digestStates().forget(ingest.data());
    }

    @Override
    public synchronized Digest commit(long size, Digest expectedDigest, Map<String, String> labels) {
        FileChannel ch = data;
        data = null;
        if (ch == null) {
            throw new ClosedException("writer of ingest " + ref);
        }
        closeWriteBack(); // waits only until every step was handed to the kernel
        boolean ingestRemoved = false;
        try {
            if (labels != null && !labels.isEmpty()) {
                throw new NotImplementedException("ingest " + ref + ": this content store keeps no labels; "
                        + "commit without labels and record them in the metadata layer");
            }
            ch.force(true);
            long fileSize = ch.size();
            ch.close();
            if (fileSize != offset) {
                throw new FailedPreconditionException("ingest " + ref + ": its data file holds " + fileSize
                        + " bytes but " + offset + " were written through this writer; it was modified behind"
                        + " the store's back");
            }
            if (size > 0 && size != fileSize) {
                throw new FailedPreconditionException("unexpected commit size " + fileSize + ", expected " + size
                        + " (ingest " + ref + ")");
            }
            Digest actual = expectedDigest == null || expectedDigest.algorithm().equals(algorithm)
                    ? LocalContentStore.digestOf(algorithm, md)
                    : LocalContentStore.hashFile(ingest.data(), expectedDigest.algorithm());
            if (expectedDigest != null && !expectedDigest.equals(actual)) {
                throw new FailedPreconditionException("unexpected commit digest " + actual + ", expected "
                        + expectedDigest + " (ingest " + ref + ")");
            }
            Path target = store.blobPath(actual);
            Files.createDirectories(target.getParent(), FileModes.SHARED_DIR);
            if (Files.exists(target)) {
                ingestRemoved = removeIngest();
                throw alreadyExists(actual);
            }
            // read-only and stamped before the link, so the blob is never visible writable or half-made
            Path dataFile = ingest.data();
            FileTime now = FileTime.from(Instant.now());
            Files.getFileAttributeView(dataFile, BasicFileAttributeView.class).setTimes(now, now, null);
            Files.setPosixFilePermissions(dataFile, FileModes.BLOB);
            FaultPoints.reached("content.commit-before-link");
            try {
                // link(2) never replaces an existing name, unlike rename(2)
                Files.createLink(target, dataFile);
            } catch (FileAlreadyExistsException e) {
                ingestRemoved = removeIngest();
                throw alreadyExists(actual);
            } catch (UnsupportedOperationException e) {
                Files.move(dataFile, target, StandardCopyOption.ATOMIC_MOVE);
            }
            LocalContentStore.fsyncDirectory(target.getParent());
            FaultPoints.reached("content.commit-after-link");
            ingestRemoved = removeIngest();
            return actual;
        } catch (IOException e) {
            throw new IoFailureException("ingest " + ref + " (" + ingest.dir() + "): commit failed: " + e, e);
        } finally {
            closeQuietly(ch);
            if (!ingestRemoved) {
                store.digestStates().remember(ingest.data(), algorithm, md, offset);
            }
            lock.release(ingestRemoved);
            store.writerClosed(this);
        }
    }

    private AlreadyExistsException alreadyExists(Digest digest) {
        return new AlreadyExistsException("content " + digest + ": already exists (committed by another writer"
                + " while ingest " + ref + " was open; the ingest was removed)");
    }

    /** @return whether the ingest directory is gone; failures are only logged: the blob is safe */
    private boolean removeIngest() {
        store.digestStates().forget(ingest.data());
        try {
            ingest.delete();
            return true;
        } catch (IOException e) {
            LOG.warn("ingest {}: cannot remove {}: {}", ref, ingest.dir(), e.toString());
            return false;
        }
    }

    @Override
    public synchronized void close() {
        FileChannel ch = data;
        data = null;
        if (ch == null) {
            return;
        }
        closeWriteBack();
        try {
            ch.force(false);
        } catch (IOException e) {
            LOG.warn("ingest {}: fsync on close failed: {}", ref, e.toString());
        }
        closeQuietly(ch);
        try {
            ingest.writeTimestamp(IngestDir.UPDATED_AT, updatedAt);
        } catch (IOException e) {
            LOG.warn("ingest {}: cannot record updatedat: {}", ref, e.toString());
        }
        store.digestStates().remember(ingest.data(), algorithm, md, offset);
        lock.release(false);
        store.writerClosed(this);
    }

    private FileChannel requireOpen(String action) {
        if (data == null) {
            throw new ClosedException("writer of ingest " + ref + " (cannot " + action + ")");
        }
        return data;
    }

    /** Keeps data and digest in step after a failed write: drops any tail the digest has not seen. */
    private BerthException failure(String action, IOException e) {
        try {
            if (data != null && data.size() > offset) {
                data.truncate(offset);
            }
        } catch (IOException suppressed) {
            e.addSuppressed(suppressed);
        }
        return new IoFailureException("ingest " + ref + " (" + ingest.dir() + "): " + action + " at offset " + offset
                + " failed: " + e.getMessage() + "; the " + offset + " bytes before it are kept and the ingest"
                + " can be resumed", e);
    }

    private void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            LOG.debug("ingest {}: closing data: {}", ref, e.toString());
        }
    }
}
