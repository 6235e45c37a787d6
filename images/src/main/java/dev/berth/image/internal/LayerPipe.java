package dev.berth.image.internal;

import dev.berth.api.CanceledException;
import dev.berth.api.Descriptor;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.content.ContentStore;
import dev.berth.api.content.ReaderAt;
import dev.berth.api.image.LayerGate;
import dev.berth.snapshot.archive.LayerApplier;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream;

/**
 * Reads a layer blob, verifies its digest and size, and decompresses it on an executor thread, handing
 * the uncompressed tar to the consumer through a bounded queue of chunks. Reading and inflating the
 * next bytes (or the next layer) thus overlaps with writing files for the current one. The consumer
 * sees the end of the stream only after the blob has been verified; a mismatch arrives as a
 * {@link Blobs.VerificationFailure} from {@code read}. The one exception is the digest of an
 * uncompressed sha256 blob, which equals the diffID the consumer computes anyway: see
 * {@link #digestDeferred()}.
 */
final class LayerPipe implements AutoCloseable {
    /*
     * Below G1's humongous-object threshold (half a region, at least 512 KiB): larger arrays are
     * allocated as humongous objects, and a layer's worth of them triggered a collection every few
     * hundred MB. Chunks are also recycled, so a layer allocates at most DEPTH + 2 of them.
     */
    private static final int CHUNK = 256 << 10;
    private static final int DEPTH = 16;
    private static final Chunk END = new Chunk(new byte[0], 0, null);

    private record Chunk(byte[] bytes, int length, IOException failure) {
    }

    /** Reading or decompressing the blob failed (not a digest or size mismatch: that is a VerificationFailure). */
    static final class SourceFailure extends IOException {
        private static final long serialVersionUID = 1L;

        SourceFailure(Throwable cause) {
            super(cause.getMessage(), cause);
        }
    }

    private static final String DIFF_ID_ALGORITHM = "sha256";

    private final BlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(DEPTH);
    private volatile boolean digestDeferred;
    private volatile boolean live;
    private final BlockingQueue<byte[]> spare = new ArrayBlockingQueue<>(DEPTH + 2);
    private volatile boolean cancelled;
    private final Consumer consumer = new Consumer();

    /** The applier sees this pipe's uncompressed stream: its size and ratio limits are enforced here. */
    private final LayerApplier limits;

    private LayerPipe(LayerApplier limits) {
        this.limits = limits;
    }

    /**
     * Starts reading {@code layer} on {@code executor}, which must run the task on another thread, once
     * {@code gate} lets it (on that thread, so waiting for a prefetched layer never holds up the current one).
     */
    static LayerPipe start(ContentStore store, Descriptor layer, String what, LayerGate gate, Executor executor,
                           LayerApplier limits) {
        return start(store, layer, what, gate, true, executor, limits);
    }

    /**
     * Like {@link #start(ContentStore, Descriptor, String, LayerGate, Executor, LayerApplier)}; with
     * {@code streamed} true the blob is read as it downloads if the gate offers its stream ({@link #live()}).
     */
    static LayerPipe start(ContentStore store, Descriptor layer, String what, LayerGate gate, boolean streamed,
                           Executor executor, LayerApplier limits) {
        LayerPipe pipe = new LayerPipe(limits);
        executor.execute(() -> pipe.produce(store, layer, what, gate, streamed));
        return pipe;
    }

    /**
     * Whether the blob is read from the gate's stream while it downloads, not from the content store. Such
     * a stream ends only once the blob is verified and stored; if it fails, what was applied from it must
     * be discarded. Known once the first byte has been read from {@link #stream()}.
     */
    boolean live() {
        return live;
    }

    /**
     * Whether the blob's digest was left to the consumer: the blob is an uncompressed tar with a sha256
     * digest, so the consumer's diffID of the stream must equal the blob's digest. Only the size was
     * checked here. Known once the first byte has been read from {@link #stream()}.
     */
    boolean digestDeferred() {
        return digestDeferred;
    }

    /** The uncompressed tar; read it in one thread. */
    InputStream stream() {
        return consumer;
    }

    private void produce(ContentStore store, Descriptor layer, String what, LayerGate gate, boolean streamed) {
        IOException failure = null;
        InputStream blob = null;
        try {
            BufferedInputStream raw;
            Compression compression;
            InputStream downloading = streamed ? downloading(gate, layer, what) : null;
            if (downloading != null) {
                // the gate's stream ends only once the content store has verified the blob: nothing to check here
                live = true;
                blob = downloading;
                raw = new BufferedInputStream(blob, 1 << 16);
                raw.mark(4);
                byte[] head = raw.readNBytes(4);
                raw.reset();
                compression = LayerCompression.detect(head, head.length);
            } else {
                Unpacker.await(gate, layer, what);
                ReaderAt reader = Blobs.open(store, layer, what);
                try {
                    byte[] head = new byte[4];
                    ByteBuffer peek = ByteBuffer.wrap(head);
                    while (peek.hasRemaining() && reader.read(peek, peek.position()) > 0) {
                        // a short read continues at the new position
                    }
                    compression = LayerCompression.detect(head, peek.position());
                } catch (RuntimeException | Error e) {
                    reader.close();
                    throw e;
                }
                // An uncompressed blob is the tar itself: the applier's diffID is its digest, so hashing it here
                // too would hash every byte twice. The size is still checked here, the digest by the consumer.
                digestDeferred = compression == Compression.NONE
                        && DIFF_ID_ALGORITHM.equals(layer.digest().algorithm());
                blob = Blobs.verifyingStream(reader, layer, what, !digestDeferred);
                raw = new BufferedInputStream(blob, 1 << 16);
            }
            InputStream tar = switch (compression) {
                // every member (eStargz layers are one gzip member per file); the JDK's GZIPInputStream reads
                // a next member only when the source reports available() > 0, and would drop the rest
                case GZIP -> GzipCompressorInputStream.builder().setInputStream(raw).setDecompressConcatenated(true)
                        .get();
                case ZSTD -> new ZstdCompressorInputStream(raw);
                default -> raw;
            };
            long uncompressed = 0;
            try {
                while (!cancelled) {
                    byte[] chunk = spare.poll();
                    if (chunk == null) {
                        chunk = new byte[CHUNK];
                    }
                    int n = tar.readNBytes(chunk, 0, CHUNK);
                    uncompressed += n;
                    limits.checkLimits(uncompressed, compression == Compression.NONE ? 0 : layer.size());
                    if (n > 0) {
                        put(new Chunk(chunk, n, null));
                    }
                    if (n < CHUNK) {
                        break;
                    }
                }
            } catch (Blobs.VerificationFailure e) {
                throw e;
            } catch (IOException e) {
                // a corrupt blob usually fails to inflate before its end: report the digest mismatch if so
                raw.transferTo(OutputStream.nullOutputStream());
                throw e;
            }
            // the verification happens when the blob's last byte has been read
            raw.transferTo(OutputStream.nullOutputStream());
        } catch (Blobs.VerificationFailure e) {
            failure = e;
        } catch (IOException | RuntimeException | Error e) {
            failure = new SourceFailure(e);
        } finally {
            if (blob != null) {
                try {
                    blob.close();
                } catch (IOException ignored) {
                    // read-only
                }
            }
        }
        try {
            put(failure == null ? END : new Chunk(null, 0, failure));
        } catch (InterruptedIOException ignored) {
            // consumer gone
        }
    }

    private static InputStream downloading(LayerGate gate, Descriptor layer, String what) {
        try {
            return gate.stream(layer);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CanceledException("interrupted while waiting for the blob of " + what, e);
        }
    }

    private void put(Chunk chunk) throws InterruptedIOException {
        try {
            while (!cancelled) {
                if (queue.offer(chunk, 100, TimeUnit.MILLISECONDS)) {
                    return;
                }
            }
            throw new InterruptedIOException("layer pipe closed by the consumer");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    /** Stops the producer (it notices within ~100 ms) and drops buffered data. Idempotent. */
    @Override
    public void close() {
        cancelled = true;
        queue.clear();
    }

    private final class Consumer extends InputStream {
        private Chunk current;
        private int position;
        private boolean ended;

        @Override
        public int read() throws IOException {
            return available() > 0 || fill() ? current.bytes[position++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (available() == 0 && !fill()) {
                return -1;
            }
            int n = Math.min(len, available());
            System.arraycopy(current.bytes, position, b, off, n);
            position += n;
            return n;
        }

        @Override
        public int available() {
            return current == null ? 0 : current.length - position;
        }

        /** Takes the next chunk once the current one is used up; false at the end of the layer. */
        private boolean fill() throws IOException {
            while (available() == 0) {
                if (ended) {
                    return false;
                }
                Chunk next;
                try {
                    next = queue.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while reading a layer");
                }
                if (next.failure != null) {
                    ended = true;
                    throw next.failure;
                }
                if (next == END) {
                    ended = true;
                    return false;
                }
                if (current != null) {
                    spare.offer(current.bytes);
                }
                current = next;
                position = 0;
            }
            return true;
        }

        @Override
        public void close() {
            LayerPipe.this.close();
        }
    }
}
