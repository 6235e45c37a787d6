package dev.berth.snapshot.archive.internal;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;

import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream;

import dev.berth.api.CountingInputStream;
import dev.berth.api.Digest;
import dev.berth.api.Digester;
import dev.berth.snapshot.archive.Compression;
import dev.berth.snapshot.archive.LayerLimitExceededException;

/**
 * The caller's (possibly compressed) layer stream turned into the uncompressed tar stream, counted and
 * hashed on the way: the diffID is the sha256 of every uncompressed byte, including the tar end marker
 * and anything after it ({@link #drain()}). Enforces the size and ratio limits while reading.
 */
public final class LayerStream implements Closeable {
    private static final int BUFFER = 1 << 16;

    private final CountingSource source;
    private final Compression compression;
    private final Tap tap;
    private final Pipe pipe;

    private LayerStream(CountingSource source, Compression compression, Opener decompressed,
                        long maxSize, double maxRatio, long ratioGrace) {
        this.source = source;
        this.compression = compression;
        this.tap = new Tap(maxSize, maxRatio, ratioGrace);
        this.pipe = new Pipe(decompressed, tap);
    }

    /**
     * Detects the compression of {@code raw} and opens the uncompressed stream.
     *
     * @param maxSize  maximum uncompressed bytes, or 0 for no limit
     * @param maxRatio maximum uncompressed/compressed ratio, or 0 for no limit
     * @param ratioGrace the ratio is judged only past this many uncompressed bytes, so small layers never
     *     trip it
     */
    public static LayerStream open(InputStream raw, long maxSize, double maxRatio, long ratioGrace)
            throws IOException {
        CountingSource source = new CountingSource(raw);
        BufferedInputStream buffered = new BufferedInputStream(source, BUFFER);
        buffered.mark(Compression.MAGIC_LENGTH);
        byte[] head = new byte[Compression.MAGIC_LENGTH];
        int n = 0;
        while (n < head.length) {
            int r = buffered.read(head, n, head.length - n);
            if (r < 0) {
                break;
            }
            n += r;
        }
        buffered.reset();
        Compression compression = Compression.detect(head, n);
        // opened on the decompressing thread: a gzip header is read right away, and a bad or truncated
        // one must fail like any other corrupt data
        Opener decompressed = switch (compression) {
            // every member of a multi-member gzip, and an error for anything else after the last one (as
            // Go's gzip reader). java.util.zip.GZIPInputStream only looks for a next member when the
            // source reports available() > 0, silently dropping members of network streams.
            case GZIP -> () -> GzipCompressorInputStream.builder().setInputStream(buffered)
                    .setDecompressConcatenated(true).get();
            case ZSTD -> () -> new ZstdCompressorInputStream(buffered);
            case NONE -> () -> buffered;
        };
        return new LayerStream(source, compression, decompressed, maxSize,
                compression == Compression.NONE ? 0 : maxRatio, ratioGrace);
    }

    private interface Opener {
        InputStream open() throws IOException;
    }

    /**
     * The uncompressed tar stream; every byte read through it is hashed and counted. Decompression and
     * hashing run ahead on two helper threads, so they overlap with the file system work of the reader.
     */
    public InputStream uncompressed() {
        return pipe;
    }

    public Compression compression() {
        return compression;
    }

    /** Reads (and hashes) whatever follows the tar end marker, up to the end of the stream. */
    public void drain() throws IOException {
        byte[] buf = new byte[BUFFER];
        while (pipe.read(buf, 0, buf.length) >= 0) {
            // hashed by the tap
        }
    }

    /** Uncompressed bytes consumed so far: the current offset in the tar stream. */
    public long uncompressedCount() {
        return pipe.consumed;
    }

    public long compressedCount() {
        return source.count();
    }

    /** The diffID; only valid once the stream was read to its end ({@link #drain()}). */
    public Digest diffId() {
        pipe.awaitProducer();
        return tap.digester.digest();
    }

    /** Whether {@code e} is (or was caused by) a failure of the caller's stream rather than bad data. */
    public boolean isSourceFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t == source.failure) {
                return true;
            }
        }
        return false;
    }

    /** The caller's stream failure, when {@link #isSourceFailure} holds. */
    public IOException sourceFailure() {
        return source.failure;
    }

    @Override
    public void close() throws IOException {
        pipe.close();
    }

    /** The caller's stream, counted; remembers its failure so it is told apart from bad data. */
    private static final class CountingSource extends CountingInputStream {
        IOException failure;

        CountingSource(InputStream in) {
            super(in);
        }

        @Override
        protected IOException failed(IOException e) {
            failure = e;
            return e;
        }
    }

    /** Hashes and counts the uncompressed bytes and enforces the limits on them. */
    private final class Tap {
        private final Digester digester = Digester.sha256();
        private final long maxSize;
        private final double maxRatio;
        private final long ratioGrace;

        Tap(long maxSize, double maxRatio, long ratioGrace) {
            this.maxSize = maxSize;
            this.maxRatio = maxRatio;
            this.ratioGrace = ratioGrace;
        }

        void tapped(byte[] b, int off, int n) {
            digester.update(b, off, n);
            long count = digester.count();
            if (maxSize > 0 && count > maxSize) {
                throw new LayerLimitExceededException("layer exceeds the uncompressed size limit of " + maxSize
                        + " bytes");
            }
            if (maxRatio > 0 && count > ratioGrace && count > maxRatio * source.count()) {
                throw new LayerLimitExceededException("layer exceeds the compression ratio limit of " + maxRatio
                        + " (" + count + " bytes from " + source.count() + " compressed bytes)");
            }
        }
    }

    /**
     * Moves the decompressed stream through two daemon threads — one reads and decompresses, one hashes —
     * and bounded queues of chunks: the single-threaded reader (tar parsing and syscalls) waits for
     * neither decompression nor sha256, and the two overlap each other.
     * Chunks are pooled direct buffers, so file content can go from a chunk straight to {@code write(2)}
     * ({@link #divert}) without being copied again on the reader's thread.
     */
    private final class Pipe extends InputStream implements Divertible {
        private static final int CHUNK = 1 << 18;
        private static final int DEPTH = 8;
        private static final Object EOF = new Object();

        private final ArrayBlockingQueue<Object> queue = new ArrayBlockingQueue<>(DEPTH);
        private final ArrayBlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(DEPTH + 2);
        private static final int RAW_DEPTH = 4;
        private final ArrayBlockingQueue<Object> raw = new ArrayBlockingQueue<>(RAW_DEPTH);
        private final ArrayBlockingQueue<byte[]> freeRaw = new ArrayBlockingQueue<>(RAW_DEPTH + 2);
        private final Thread reader;
        private final Thread producer;
        private volatile boolean closed;
        private ByteBuffer chunk;
        private int pos;
        private int limit;
        private boolean ended;
        private Sink sink;
        private int divertedFrom = -1;
        long consumed;

        Pipe(Opener from, Tap tap) {
            for (int i = 0; i < DEPTH + 2; i++) {
                free.add(ByteBuffer.allocateDirect(CHUNK));
            }
            for (int i = 0; i < RAW_DEPTH + 2; i++) {
                freeRaw.add(new byte[CHUNK]);
            }
            reader = new Thread(() -> read(from), "berth-layer-decompress");
            reader.setDaemon(true);
            producer = new Thread(() -> hash(tap), "berth-layer-digest");
            producer.setDaemon(true);
            reader.start();
            producer.start();
        }

        /** Stage 1: reads (and decompresses) the layer into raw chunks. */
        private void read(Opener opener) {
            Object last = EOF;
            try {
                InputStream from = opener.open();
                while (!closed) {
                    byte[] b = freeRaw.take();
                    int n = 0;
                    while (n < b.length) {
                        int r = from.read(b, n, b.length - n);
                        if (r < 0) {
                            break;
                        }
                        n += r;
                    }
                    if (n > 0) {
                        raw.put(new RawChunk(b, n));
                    }
                    if (n < b.length) {
                        break;
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                last = t;
            }
            try {
                raw.put(last);
            } catch (InterruptedException e) {
                // closed
            }
        }

        /**
         * Stage 2: hashes the raw chunks (sha256 runs beside decompression, not after it) and moves them
         * into direct buffers for the reader.
         */
        private void hash(Tap tap) {
            Object last = EOF;
            try {
                while (!closed) {
                    Object next = raw.take();
                    if (!(next instanceof RawChunk c)) {
                        last = next;
                        break;
                    }
                    tap.tapped(c.bytes, 0, c.length);
                    ByteBuffer d = free.take();
                    d.clear();
                    d.put(c.bytes, 0, c.length).flip();
                    freeRaw.put(c.bytes);
                    queue.put(d);
                }
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                last = t;
            }
            try {
                queue.put(last);
            } catch (InterruptedException e) {
                // closed
            }
        }

        private boolean fill() throws IOException {
            if (ended) {
                return false;
            }
            flushDiverted();
            Object next;
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while reading the layer");
            }
            if (chunk != null) {
                free.offer(chunk);
                chunk = null;
                pos = 0;
                limit = 0;
            }
            if (next == EOF) {
                ended = true;
                return false;
            }
            if (next instanceof ByteBuffer b) {
                chunk = b;
                pos = 0;
                limit = b.limit();
                if (sink != null) {
                    divertedFrom = 0;
                }
                return true;
            }
            ended = true;
            Throwable t = (Throwable) next;
            if (t instanceof IOException io) {
                throw io;
            }
            if (t instanceof RuntimeException re) {
                throw re;
            }
            throw (Error) t;
        }

        @Override
        public void divert(Sink to) throws IOException {
            if (to == null) {
                flushDiverted();
                sink = null;
                divertedFrom = -1;
            } else {
                sink = to;
                divertedFrom = pos;
            }
        }

        @Override
        public void abandonDivert() {
            sink = null;
            divertedFrom = -1;
        }

        private void flushDiverted() throws IOException {
            if (sink != null && divertedFrom >= 0 && pos > divertedFrom) {
                sink.accept(chunk.slice(divertedFrom, pos - divertedFrom));
            }
            divertedFrom = sink != null ? pos : -1;
        }

        @Override
        public int read() throws IOException {
            if (pos == limit && !fill()) {
                return -1;
            }
            consumed++;
            return chunk.get(pos++) & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (pos == limit && !fill()) {
                return -1;
            }
            int n = Math.min(len, limit - pos);
            if (sink == null) {
                chunk.get(pos, b, off, n);
            }
            pos += n;
            consumed += n;
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long done = 0;
            while (done < n) {
                if (pos == limit && !fill()) {
                    break;
                }
                int k = (int) Math.min(n - done, limit - pos);
                pos += k;
                consumed += k;
                done += k;
            }
            return done;
        }

        @Override
        public int available() {
            return limit - pos;
        }

        void awaitProducer() {
            try {
                producer.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() {
            closed = true;
            reader.interrupt();
            producer.interrupt();
            queue.clear();
            raw.clear();
        }
    }

    private record RawChunk(byte[] bytes, int length) {
    }

    /**
     * A stream whose bytes can be handed to a {@link Sink} instead of being copied into the reader's
     * array: while diverted, {@code read(byte[], ..)} and {@code skip} consume bytes without filling the
     * array and the sink receives every consumed byte, in order, in slices of the pooled chunks.
     */
    public interface Divertible {
        /** Diverts consumed bytes to {@code sink} from now on, or stops (flushing) when {@code null}. */
        void divert(Sink sink) throws IOException;

        /** Stops diverting without handing the pending bytes to the sink (after a failure). */
        void abandonDivert();
    }

    /** Receives diverted bytes; the buffer is only valid during the call. */
    public interface Sink {
        void accept(ByteBuffer bytes) throws IOException;
    }
}
