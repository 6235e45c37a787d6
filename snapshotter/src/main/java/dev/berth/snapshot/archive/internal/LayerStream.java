package dev.berth.snapshot.archive.internal;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

import org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream;

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
    /** Ratios are only judged after this many uncompressed bytes, so small layers never trip them. */
    static final long RATIO_GRACE = 1 << 20;
    private static final int BUFFER = 1 << 16;

    private final CountingSource source;
    private final Compression compression;
    private final InputStream decompressed;
    private final Tap tap;
    private final Pipe pipe;

    private LayerStream(CountingSource source, Compression compression, InputStream decompressed,
                        long maxSize, double maxRatio) {
        this.source = source;
        this.compression = compression;
        this.decompressed = decompressed;
        this.tap = new Tap(decompressed, maxSize, maxRatio);
        this.pipe = new Pipe(tap);
    }

    /**
     * Detects the compression of {@code raw} and opens the uncompressed stream.
     *
     * @param maxSize  maximum uncompressed bytes, or 0 for no limit
     * @param maxRatio maximum uncompressed/compressed ratio, or 0 for no limit
     */
    public static LayerStream open(InputStream raw, long maxSize, double maxRatio) throws IOException {
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
        InputStream decompressed = switch (compression) {
            case GZIP -> new GZIPInputStream(buffered, BUFFER);
            case ZSTD -> new ZstdCompressorInputStream(buffered);
            case NONE -> buffered;
        };
        return new LayerStream(source, compression, decompressed, maxSize,
                compression == Compression.NONE ? 0 : maxRatio);
    }

    /**
     * The uncompressed tar stream; every byte read through it is hashed and counted. Decompression and
     * hashing run ahead on a helper thread, so they overlap with the file system work of the reader.
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
        return source.count;
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

    private static final class CountingSource extends FilterInputStream {
        long count;
        IOException failure;

        CountingSource(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                int n = in.read(b, off, len);
                if (n > 0) {
                    count += n;
                }
                return n;
            } catch (IOException e) {
                failure = e;
                throw e;
            }
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] buf = new byte[(int) Math.min(n, 8192)];
            long done = 0;
            while (done < n) {
                int r = read(buf, 0, (int) Math.min(buf.length, n - done));
                if (r < 0) {
                    break;
                }
                done += r;
            }
            return done;
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }

    private final class Tap extends InputStream {
        private final InputStream in;
        private final Digester digester = Digester.sha256();
        private final long maxSize;
        private final double maxRatio;

        Tap(InputStream in, long maxSize, double maxRatio) {
            this.in = in;
            this.maxSize = maxSize;
            this.maxRatio = maxRatio;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                digester.update(b, off, n);
                check();
            }
            return n;
        }

        private void check() {
            long count = digester.count();
            if (maxSize > 0 && count > maxSize) {
                throw new LayerLimitExceededException("layer exceeds the uncompressed size limit of " + maxSize
                        + " bytes");
            }
            if (maxRatio > 0 && count > RATIO_GRACE && count > maxRatio * source.count) {
                throw new LayerLimitExceededException("layer exceeds the compression ratio limit of " + maxRatio
                        + " (" + count + " bytes from " + source.count + " compressed bytes)");
            }
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] buf = new byte[(int) Math.min(Math.max(n, 1), BUFFER)];
            long done = 0;
            while (done < n) {
                int r = read(buf, 0, (int) Math.min(buf.length, n - done));
                if (r < 0) {
                    break;
                }
                done += r;
            }
            return done;
        }

        @Override
        public int available() throws IOException {
            return in.available();
        }
    }

    /**
     * Moves the tapped stream through a bounded queue of chunks filled by a daemon thread: the
     * single-threaded reader (tar parsing and syscalls) no longer waits for decompression and sha256.
     */
    private final class Pipe extends InputStream {
        private static final int CHUNK = 1 << 18;
        private static final int DEPTH = 16;
        private static final byte[] EOF = new byte[0];

        private final java.util.concurrent.ArrayBlockingQueue<Object> queue =
                new java.util.concurrent.ArrayBlockingQueue<>(DEPTH);
        private final Thread producer;
        private volatile boolean closed;
        private byte[] chunk = new byte[0];
        private int pos;
        private int limit;
        private boolean ended;
        long consumed;

        Pipe(InputStream from) {
            producer = new Thread(() -> produce(from), "berth-layer-decompress");
            producer.setDaemon(true);
            producer.start();
        }

        private void produce(InputStream from) {
            Object last = EOF;
            try {
                while (!closed) {
                    byte[] b = new byte[CHUNK];
                    int n = 0;
                    while (n < b.length) {
                        int r = from.read(b, n, b.length - n);
                        if (r < 0) {
                            break;
                        }
                        n += r;
                    }
                    if (n > 0) {
                        queue.put(n == b.length ? b : java.util.Arrays.copyOf(b, n));
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
                queue.put(last);
            } catch (InterruptedException e) {
                // closed
            }
        }

        private boolean fill() throws IOException {
            if (ended) {
                return false;
            }
            Object next;
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while reading the layer");
            }
            if (next == EOF) {
                ended = true;
                return false;
            }
            if (next instanceof byte[] b) {
                chunk = b;
                pos = 0;
                limit = b.length;
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
        public int read() throws IOException {
            if (pos == limit && !fill()) {
                return -1;
            }
            consumed++;
            return chunk[pos++] & 0xff;
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
            System.arraycopy(chunk, pos, b, off, n);
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
            producer.interrupt();
            queue.clear();
        }
    }
}
