package dev.berth.content;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.CanceledException;
import dev.berth.api.DeadlineExceededException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import dev.berth.api.content.ContentStore;
import dev.berth.api.content.ReaderAt;
import dev.berth.api.content.Writer;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moving whole blobs into and out of any {@link ContentStore} with containerd's rules (its
 * {@code content.OpenWriter}, {@code Copy}, {@code WriteBlob} and {@code ReadBlob}): wait out other
 * writers of a ref, resume an interrupted ingest where it stopped, count a blob that is already stored as
 * written, and check size and digest of what is read back.
 *
 * <p>All methods are static and thread-safe; sources passed in are read but never closed.
 */
public final class Content {
    private static final Logger LOG = LoggerFactory.getLogger(Content.class);
    private static final long FIRST_BACKOFF_MILLIS = 16;
    private static final long MAX_BACKOFF_MILLIS = 2048;
    private static final int MAX_ARRAY_SIZE = Integer.MAX_VALUE - 8;

    private Content() {
    }

    /**
     * A blob's bytes that can be opened at any offset, so an interrupted ingest resumes without reading
     * what is already stored again: an HTTP {@code Range} request, a file, an array.
     */
    @FunctionalInterface
    public interface RangeSource {
        /** Opens the bytes from {@code offset} to the end; the caller closes the stream. */
        InputStream openAt(long offset) throws IOException;
    }

    /**
     * Opens a writer on {@code ref}, retrying while another writer holds the ref, with randomised
     * exponential back-off (sleeps up to 16 ms at first, doubling to about 2 s) until {@code deadline}.
     *
     * @param desc expected descriptor, or null when size and digest are unknown
     * @throws AlreadyExistsException if {@code desc}'s digest is already stored (not retried: callers treat
     *         it as success)
     * @throws DeadlineExceededException if the ref is still held at {@code deadline}, carrying the last
     *         {@link UnavailableException}
     * @throws CanceledException if the thread is interrupted while waiting (its interrupt flag stays set)
     */
    public static Writer openWriter(ContentStore store, String ref, Descriptor desc, Instant deadline) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(deadline, "deadline");
        long ceiling = FIRST_BACKOFF_MILLIS;
        while (true) {
            try {
                return store.writer(ref, desc);
            } catch (UnavailableException e) {
                long remaining = millisUntil(deadline);
                if (remaining <= 0) {
                    throw new DeadlineExceededException("gave up waiting for ref " + ref + " at " + deadline + ": "
                            + e.getMessage(), e);
                }
                long sleep = Math.min(remaining, 1 + ThreadLocalRandom.current().nextLong(ceiling));
                try {
                    Thread.sleep(sleep);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new CanceledException("interrupted while waiting for ref " + ref, ie);
                }
                ceiling = Math.min(ceiling * 2, MAX_BACKOFF_MILLIS);
            }
        }
    }

    private static long millisUntil(Instant deadline) {
        Instant now = Instant.now();
        if (!deadline.isAfter(now)) {
            return 0;
        }
        try {
            return Duration.between(now, deadline).toMillis();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * Stores the blob {@code desc} read from {@code source} under the ingest {@code ref}. If an earlier
     * attempt left part of it, that part is kept and the stream's first bytes are skipped (read and
     * discarded: a stream cannot seek). See {@link #copy(ContentStore, String, RangeSource, Descriptor)}.
     */
    public static void copy(ContentStore store, String ref, InputStream source, Descriptor desc) {
        Objects.requireNonNull(source, "source");
        copy(store, ref, new StreamSource(source), desc);
    }

    /**
     * As {@link #copy(ContentStore, String, InputStream, Descriptor)}; a {@link SeekableByteChannel} is
     * positioned past what is already stored (relative to its position on entry) instead of being read.
     */
    public static void copy(ContentStore store, String ref, ReadableByteChannel source, Descriptor desc) {
        Objects.requireNonNull(source, "source");
        copy(store, ref, source instanceof SeekableByteChannel seekable ? new SeekableSource(seekable)
                : new ChannelSource(source), desc);
    }

    /**
     * Stores the blob {@code desc} under the ingest {@code ref}, reading {@code source} from the offset an
     * earlier attempt reached. Containerd's {@code WriteBlob}: waits (interruptibly, without limit) while
     * another writer holds {@code ref}; returns normally if the blob is, or meanwhile becomes, stored.
     *
     * <p>At most {@code desc.size()} bytes are read (all of the source if the size is 0, containerd's
     * "unknown"); the commit checks size and digest. If the resumed bytes turn out not to belong to this
     * blob (digest mismatch), the copy starts once more from offset 0. An ingest that still fails its
     * checks is aborted, so the next attempt does not resume bad bytes.
     *
     * @throws FailedPreconditionException if the source ends before {@code desc.size()} bytes (the ingest is
     *         kept for a later resume), or the bytes do not match {@code desc}
     * @throws IoFailureException if reading the source fails (the ingest is kept)
     */
    public static void copy(ContentStore store, String ref, RangeSource source, Descriptor desc) {
        Objects.requireNonNull(source, "source");
        copy(store, ref, new RangeSourceAdapter(source), desc);
    }

    /**
     * Stores a small blob held in memory (a manifest, a config) under the ingest {@code ref} and returns
     * its sha256 descriptor.
     */
    public static Descriptor writeBlob(ContentStore store, String ref, String mediaType, byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        Descriptor desc = new Descriptor(mediaType, Digest.sha256(bytes), bytes.length);
        copy(store, ref, offset -> new ByteArrayInputStream(bytes, (int) offset, bytes.length - (int) offset),
                desc);
        return desc;
    }

    /**
     * Reads a whole blob into memory, for small ones (manifests, indexes, configs), checking its size and
     * digest against {@code desc}.
     *
     * @throws NotFoundException if it is not stored
     * @throws FailedPreconditionException if its size or digest differs from {@code desc}, naming both
     * @throws InvalidArgumentException if it is too large for an array
     */
    public static byte[] readBlob(ContentStore store, Descriptor desc) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(desc, "desc");
        if (desc.size() > MAX_ARRAY_SIZE) {
            throw new InvalidArgumentException("content " + desc.digest() + " is " + desc.size()
                    + " bytes, too large to read into memory; stream it with readerAt");
        }
        try (ReaderAt reader = store.readerAt(desc)) {
            if (reader.size() != desc.size()) {
                throw new FailedPreconditionException("content " + desc.digest() + " is " + reader.size()
                        + " bytes, but its descriptor says " + desc.size());
            }
            byte[] bytes = new byte[(int) desc.size()];
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                if (reader.read(buffer, buffer.position()) < 0) {
                    throw new FailedPreconditionException("content " + desc.digest() + " ended after "
                            + buffer.position() + " of " + desc.size() + " bytes");
                }
            }
            Digest actual = Digest.of(desc.digest().algorithm(), bytes);
            if (!actual.equals(desc.digest())) {
                throw new FailedPreconditionException("content " + desc.digest() + " is corrupt: its bytes hash to "
                        + actual);
            }
            return bytes;
        }
    }

    /** Where a copy reads from; positions itself past bytes an earlier attempt stored. */
    private interface Source {
        /** The source's bytes from {@code offset}; called at most once per attempt. */
        ReadableByteChannel openAt(long offset) throws IOException;

        /** Whether {@link #openAt} may be called again, e.g. at 0 after a failed resume. */
        boolean restartable();

        /** Releases what {@link #openAt} opened (never the caller's own stream). */
        default void done() throws IOException {
        }
    }

    private static void copy(ContentStore store, String ref, Source source, Descriptor desc) {
        Objects.requireNonNull(desc, "desc");
        for (int attempt = 0; ; attempt++) {
            Writer writer;
            try {
                writer = openWriter(store, ref, desc, Instant.MAX);
            } catch (AlreadyExistsException e) {
                return;
            }
            long resumedAt;
            try (writer) {
                if (attempt > 0) {
                    writer.truncate(0);
                }
                resumedAt = writer.status().offset();
                transfer(writer, source, resumedAt, desc);
                try {
                    writer.commit(desc.size(), desc.digest());
                    return;
                } catch (AlreadyExistsException e) {
                    return;
                } catch (FailedPreconditionException e) {
                    if (resumedAt > 0 && attempt == 0 && source.restartable()) {
                        LOG.info("ingest {}: the {} bytes resumed do not belong to {} ({}); copying again from 0",
                                ref, resumedAt, desc.digest(), e.getMessage());
                        continue;
                    }
                    abandon(store, ref);
                    throw e;
                }
            }
        }
    }

    private static void transfer(Writer writer, Source source, long offset, Descriptor desc) {
        String ref = writer.status().ref();
        long size = desc.size();
        long wanted = size > 0 ? size - offset : Long.MAX_VALUE;
        try {
            ReadableByteChannel channel;
            try {
                channel = source.openAt(offset);
            } catch (EOFException e) {
                throw new FailedPreconditionException("ingest " + ref + ": the source of " + desc.digest()
                        + " ends before offset " + offset + " where the stored part ends", e);
            } catch (IOException e) {
                throw new IoFailureException("ingest " + ref + ": cannot open the source at offset " + offset, e);
            }
            long copied = writer.transferFrom(channel, wanted);
            if (size > 0 && copied < wanted) {
                throw new FailedPreconditionException("ingest " + ref + ": the source of " + desc.digest()
                        + " ended after " + (offset + copied) + " of " + size + " bytes; what arrived is kept"
                        + " for a later resume");
            }
        } finally {
            try {
                source.done();
            } catch (IOException e) {
                LOG.debug("ingest {}: closing the source: {}", ref, e.toString());
            }
        }
    }

    private static void abandon(ContentStore store, String ref) {
        try {
            store.abort(ref);
        } catch (RuntimeException e) {
            LOG.debug("ingest {}: cannot abort after a failed commit: {}", ref, e.toString());
        }
    }

    private record StreamSource(InputStream in) implements Source {
        @Override
        public ReadableByteChannel openAt(long offset) throws IOException {
            in.skipNBytes(offset);
            return Channels.newChannel(in);
        }

        @Override
        public boolean restartable() {
            return false;
        }
    }

    private record ChannelSource(ReadableByteChannel in) implements Source {
        @Override
        public ReadableByteChannel openAt(long offset) throws IOException {
            ByteBuffer discard = ByteBuffer.allocate((int) Math.min(offset, 64 << 10));
            long left = offset;
            while (left > 0) {
                discard.clear().limit((int) Math.min(discard.capacity(), left));
                int n = in.read(discard);
                if (n < 0) {
                    throw new EOFException("source ended " + left + " bytes before offset " + offset);
                }
                left -= n;
            }
            return in;
        }

        @Override
        public boolean restartable() {
            return false;
        }
    }

    private static final class SeekableSource implements Source {
        private final SeekableByteChannel in;
        private final long start;

        SeekableSource(SeekableByteChannel in) {
            this.in = in;
            try {
                this.start = in.position();
            } catch (IOException e) {
                throw new IoFailureException("cannot read the source's position", e);
            }
        }

        @Override
        public ReadableByteChannel openAt(long offset) throws IOException {
            in.position(start + offset);
            return in;
        }

        @Override
        public boolean restartable() {
            return true;
        }
    }

    private static final class RangeSourceAdapter implements Source {
        private final RangeSource source;
        private InputStream opened;

        RangeSourceAdapter(RangeSource source) {
            this.source = source;
        }

        @Override
        public ReadableByteChannel openAt(long offset) throws IOException {
            opened = Objects.requireNonNull(source.openAt(offset), "RangeSource.openAt returned null");
            return Channels.newChannel(opened);
        }

        @Override
        public boolean restartable() {
            return true;
        }

        @Override
        public void done() throws IOException {
            if (opened != null) {
                opened.close();
                opened = null;
            }
        }
    }
}
