package dev.berth.image.internal;

import dev.berth.api.Digest;
import dev.berth.api.Labels;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.Mount;
import dev.berth.api.NotFoundException;
import dev.berth.api.oci.image.ChainIds;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.snapshot.archive.ApplyResult;
import dev.berth.snapshot.archive.LayerApplier;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies layer blobs while an archive import stores them, so that an import with unpack reads the
 * archive once and decompresses and writes files while the blobs are still being stored and hashed.
 *
 * <p>An archive names a blob's place in an image only in documents that may come after it, so this is
 * speculation: every blob that starts like a layer (gzip, zstd or tar) is applied on top of the one
 * applied before it in this import (the first on no parent), the order in which {@code docker save},
 * {@code ctr export} and Berth write an image's layers. Once the applied stream has ended and its blob
 * has been verified and committed to the content store, the snapshot is committed under the chainID
 * that its parent's chainID and the computed diffID give: a snapshot that is correct whatever image it
 * belongs to. {@link #finish} then removes those that no imported image needs, and the ordinary unpack
 * that follows finds the others committed and skips them (and applies whatever speculation missed).
 * A blob that fails to apply or to verify is discarded, as is everything after it; the unpack then
 * reports the failure as it would have without speculation. {@link #abort} removes every snapshot this
 * import committed.
 */
public final class ImportUnpacker {
    private static final Logger LOG = LoggerFactory.getLogger(ImportUnpacker.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int DEPTH = 32;
    private static final int CHUNK = 256 << 10;
    private static final byte[] TAR_MAGIC = "ustar".getBytes(StandardCharsets.US_ASCII);
    private static final Chunk END = new Chunk(new byte[0], 0, null);

    private final Snapshotter snapshotter;
    private final LayerApplier applier;
    private final ChainLocks locks;
    private final Executor executor;
    private final List<Tee> tees = new ArrayList<>();
    private boolean stopped;

    public ImportUnpacker(Snapshotter snapshotter, LayerApplier applier, ChainLocks locks, Executor executor) {
        this.snapshotter = Objects.requireNonNull(snapshotter, "snapshotter");
        this.applier = Objects.requireNonNull(applier, "applier");
        this.locks = Objects.requireNonNull(locks, "locks");
        this.executor = Objects.requireNonNull(executor, "executor");
    }

    /**
     * A tee for a blob whose first {@code n} bytes are {@code head}, whose bytes are then applied as
     * they are written to it; null if the blob does not start like a layer or speculation has stopped.
     */
    public Tee begin(byte[] head, int n) {
        if (stopped || !looksLikeLayer(head, n)) {
            return null;
        }
        Tee previous = tees.isEmpty() ? null : tees.get(tees.size() - 1);
        Tee tee = new Tee(previous);
        tees.add(tee);
        executor.execute(tee::apply);
        return tee;
    }

    /**
     * A stored blob that was not read from the archive (it was in the store already): the layer order
     * is no longer known, so nothing more is applied in this import.
     */
    public void skipped() {
        stopped = true;
    }

    static boolean looksLikeLayer(byte[] head, int n) {
        if (LayerCompression.detect(head, n) != Compression.NONE) {
            return true;
        }
        if (n < 257 + TAR_MAGIC.length) {
            return false;
        }
        for (int i = 0; i < TAR_MAGIC.length; i++) {
            if (head[257 + i] != TAR_MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * After the images were imported: waits for the applies, then removes the snapshots this import
     * committed whose chainID is not in {@code wanted} (top first).
     */
    public void finish(Set<Digest> wanted) {
        stopped = true;
        for (Tee tee : tees) {
            tee.abandon(); // a tee still open here was never ended by the importer
        }
        removeCommitted(wanted);
    }

    /** The import failed: stops the applies and removes every snapshot this import committed. */
    public void abort() {
        finish(Set.of());
    }

    private void removeCommitted(Set<Digest> wanted) {
        for (int i = tees.size() - 1; i >= 0; i--) {
            Tee tee = tees.get(i);
            Digest chain = tee.result.join();
            if (chain == null || !tee.owned || wanted.contains(chain)) {
                continue;
            }
            try (ChainLocks.Handle lock = locks.lock(snapshotter.name(), chain.toString())) {
                snapshotter.remove(chain.toString());
            } catch (RuntimeException e) {
                LOG.warn("cannot remove the speculatively unpacked layer {}: {}", chain, e.toString());
            }
        }
    }

    private record Chunk(byte[] bytes, int length, IOException failure) {
    }

    /**
     * One blob's bytes on their way from the importer's thread to the apply on an executor thread,
     * through a bounded queue. Once the apply has failed, writes are dropped so that the import is never
     * held up by it.
     */
    public final class Tee {
        private final Tee previous;
        private final BlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(DEPTH);
        private final CompletableFuture<Boolean> verified = new CompletableFuture<>();
        /** The committed chainID, or null if this blob was not applied. */
        final CompletableFuture<Digest> result = new CompletableFuture<>();
        private volatile boolean dead;
        private boolean ended;
        boolean owned;

        private Tee(Tee previous) {
            this.previous = previous;
        }

        /** Bytes of the blob, in order; copied, so {@code b} may be reused. */
        public void write(byte[] b, int off, int len) {
            for (int done = 0; done < len && !dead; ) {
                int n = Math.min(CHUNK, len - done);
                byte[] copy = new byte[n];
                System.arraycopy(b, off + done, copy, 0, n);
                put(new Chunk(copy, n, null));
                done += n;
            }
        }

        /** The importer has written the whole blob. */
        public void end() {
            if (!ended) {
                ended = true;
                put(END);
            }
        }

        /** The blob's digest was checked and it is committed to the content store. */
        public void verified() {
            end();
            verified.complete(true);
        }

        /** The blob failed (or the import did): nothing is committed for it. */
        public void abandon() {
            if (!ended) {
                ended = true;
                put(new Chunk(null, 0, new IOException("the import stopped before this blob was stored")));
            }
            verified.complete(false);
        }

        private void put(Chunk chunk) {
            try {
                while (!dead) {
                    if (queue.offer(chunk, 100, TimeUnit.MILLISECONDS)) {
                        return;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                dead = true;
            }
        }

        private void apply() {
            String key = null;
            Digest chain = null;
            try {
                Digest parent = null;
                if (previous != null) {
                    parent = previous.result.join();
                    if (parent == null) {
                        return; // the layer below was not applied: its chainID is unknown
                    }
                }
                key = "extract-" + uniquePart() + " import";
                List<Mount> mounts = snapshotter.prepare(key, parent == null ? null : parent.toString(), Map.of());
                Consumer in = new Consumer();
                ApplyResult applied = applier.apply(in, mounts);
                in.transferTo(OutputStream.nullOutputStream()); // the importer waits for no one
                if (!verified.join()) {
                    return;
                }
                chain = parent == null ? applied.diffId() : ChainIds.next(parent, applied.diffId());
                String name = chain.toString();
                try (ChainLocks.Handle lock = locks.lock(snapshotter.name(), name)) {
                    if (exists(name)) {
                        return; // unpacked before, or by someone else meanwhile: keep theirs
                    }
                    snapshotter.commit(name, key, Map.of(Labels.SNAPSHOT_REF, name));
                    key = null;
                    owned = true;
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("speculative unpack of an imported blob stopped: {}", e.toString());
                chain = null;
            } finally {
                dead = true;
                queue.clear();
                if (key != null) {
                    try {
                        snapshotter.remove(key);
                    } catch (RuntimeException e) {
                        LOG.warn("cannot remove the extraction snapshot {}: {}", key, e.toString());
                    }
                }
                // a chainID committed by someone else is still a parent for the next layer
                result.complete(owned || chain != null && exists(chain.toString()) ? chain : null);
            }
        }

        private boolean exists(String name) {
            try {
                snapshotter.stat(name);
                return true;
            } catch (NotFoundException e) {
                return false;
            } catch (RuntimeException e) {
                return false;
            }
        }

        /** The blob's bytes as the apply reads them. */
        private final class Consumer extends InputStream {
            private Chunk current;
            private int position;
            private boolean finished;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                while (current == null || position == current.length) {
                    if (finished) {
                        return -1;
                    }
                    Chunk next;
                    try {
                        next = queue.take();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted while applying an imported blob");
                    }
                    if (next.failure != null) {
                        finished = true;
                        throw next.failure;
                    }
                    if (next == END) {
                        finished = true;
                        return -1;
                    }
                    current = next;
                    position = 0;
                }
                int n = Math.min(len, current.length - position);
                System.arraycopy(current.bytes, position, b, off, n);
                position += n;
                return n;
            }
        }
    }

    private static String uniquePart() {
        byte[] b = new byte[3];
        RANDOM.nextBytes(b);
        return (System.nanoTime() % 1_000_000_000L) + "-" + Base64.getUrlEncoder().encodeToString(b);
    }
}
