package dev.berth.registry.internal;

import dev.berth.api.Descriptor;
import dev.berth.api.content.ContentStore;
import dev.berth.api.content.ReaderAt;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Hands a layer blob's bytes to an unpack while the download writes them into the content store
 * ({@link dev.berth.api.image.LayerGate#stream}). The download never depends on the reader: it copies
 * what it wrote into a bounded buffer. Before a reader has come, a full buffer (or a committed blob) makes
 * the tee stop buffering (a committed blob nobody asked for yet is dropped); once one reads, the download
 * waits for room a short while, then stops buffering too. From the byte where buffering stopped the reader continues in the committed blob, so it always
 * gets the blob from byte 0, and the end of the stream only once this download has committed the blob,
 * which the content store verified against its digest. If the download fails, or rewrites bytes the
 * reader may already have (a resume that starts over), the reader gets an {@link IOException} instead.
 */
final class BlobTee {
    /** Buffered bytes per blob: a few compressed megabytes, ahead of a decompressor. */
    static final long CAPACITY = 16L << 20;
    /** How long a download waits for a reader that is behind before it stops feeding it. */
    private static final long PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final ContentStore store;
    private final Descriptor blob;
    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    private long buffered;
    /** The ingest offset the next byte written must have to be teed. */
    private long position;
    /** Where buffering stopped (the reader continues in the committed blob), or -1. */
    private long spilledAt = -1;
    private boolean attached;
    private boolean detached;
    private boolean committed;
    private Throwable failure;
    private volatile Future<?> download;

    BlobTee(ContentStore store, Descriptor blob) {
        this.store = store;
        this.blob = blob;
    }

    void download(Future<?> future) {
        this.download = future;
    }

    /** Bytes below this may have been handed over: the ingest must never be rewritten there. */
    private long handedOver() {
        return spilledAt >= 0 ? spilledAt : position;
    }

    // ---------------------------------------------------------------- the download's side

    /** {@code len} bytes were written to the ingest at {@code offset}. */
    synchronized void wrote(long offset, byte[] b, int off, int len) {
        if (detached || failure != null || len == 0) {
            return;
        }
        if (offset < handedOver()) {
            fail(new IOException("the download of " + blob.digest() + " wrote bytes from " + offset
                    + " again after " + handedOver() + " were handed to the unpack"));
            return;
        }
        if (spilledAt >= 0) {
            return;
        }
        if (offset > position) { // the ingest held bytes already (a resumed pull): read them once committed
            spill();
            return;
        }
        long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (buffered + len > CAPACITY && !detached) {
            long left = deadline - System.nanoTime();
            if (!attached || left <= 0) {
                spill();
                return;
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                spill();
                return;
            }
        }
        if (detached || failure != null) {
            return;
        }
        byte[] copy = new byte[len];
        System.arraycopy(b, off, copy, 0, len);
        chunks.add(copy);
        buffered += len;
        position += len;
        notifyAll();
    }

    /** Stops buffering; what is buffered stays for the reader (dropped at the commit if none has come). */
    private void spill() {
        spilledAt = position;
        notifyAll();
    }

    /** The ingest was discarded or truncated to {@code offset}. */
    synchronized void rewound(long offset) {
        if (offset < handedOver()) {
            fail(new IOException("the download of " + blob.digest() + " started over at byte " + offset + " after "
                    + handedOver() + " bytes were handed to the unpack"));
        }
    }

    /** This download committed the blob: the content store verified it. */
    synchronized void committed() {
        committed = true;
        if (!attached) {
            chunks.clear();
            buffered = 0;
            spilledAt = 0;
        }
        notifyAll();
    }

    /**
     * The blob is in the store, but not by this download's commit (stored before, or by another pull
     * meanwhile): what was handed over from this download is unverified.
     */
    synchronized void storedByOthers() {
        if (handedOver() > 0) {
            fail(new IOException("the blob " + blob.digest() + " was stored by another writer; the bytes handed "
                    + "to the unpack were not the ones verified"));
        } else {
            spilledAt = 0;
            committed = true;
            notifyAll();
        }
    }

    synchronized void failed(Throwable e) {
        if (!committed) {
            fail(e);
        }
    }

    private void fail(Throwable e) {
        if (failure == null) {
            failure = e;
        }
        chunks.clear();
        buffered = 0;
        notifyAll();
    }

    // ---------------------------------------------------------------- the unpack's side

    /** The blob's bytes from byte 0, or null if there is nothing to stream (see the class comment). */
    synchronized InputStream attach() {
        if (attached || detached || failure != null || spilledAt == 0) {
            return null;
        }
        attached = true;
        return new Reader();
    }

    private final class Reader extends InputStream {
        private byte[] current;
        private int pos;
        /** Bytes returned so far. */
        private long read;
        private InputStream stored;
        private boolean closed;

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
            if (closed) {
                throw new IOException("stream closed");
            }
            if (stored != null) {
                int n = stored.read(b, off, len);
                if (n > 0) {
                    read += n;
                } else if (read != blob.size()) {
                    throw new IOException("the stored blob " + blob.digest() + " ended at " + read + " of "
                            + blob.size() + " bytes");
                }
                return n;
            }
            if (current == null || pos == current.length) {
                if (!next()) {
                    return stored != null ? read(b, off, len) : -1;
                }
            }
            int n = Math.min(len, current.length - pos);
            System.arraycopy(current, pos, b, off, n);
            pos += n;
            read += n;
            return n;
        }

        /** Takes the next buffered chunk; false at the end, or once the rest is read from the store. */
        private boolean next() throws IOException {
            synchronized (BlobTee.this) {
                while (true) {
                    if (failure != null) {
                        throw new IOException("the download of " + blob.digest() + " failed: " + failure, failure);
                    }
                    byte[] chunk = chunks.poll();
                    if (chunk != null) {
                        buffered -= chunk.length;
                        BlobTee.this.notifyAll();
                        current = chunk;
                        pos = 0;
                        return true;
                    }
                    if (committed && (spilledAt < 0 || read == spilledAt)) {
                        if (spilledAt < 0) {
                            if (read != blob.size()) {
                                throw new IOException("the download of " + blob.digest() + " committed " + read
                                        + " of " + blob.size() + " bytes");
                            }
                            return false;
                        }
                        break; // the rest from the store, outside the lock
                    }
                    Future<?> f = download;
                    if (f != null && f.isDone() && !committed && failure == null) {
                        throw new IOException("the download of " + blob.digest() + " ended without storing it");
                    }
                    try {
                        BlobTee.this.wait(100);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted while waiting for " + blob.digest());
                    }
                }
            }
            ReaderAt reader = store.readerAt(blob);
            if (reader.size() != blob.size()) {
                long size = reader.size();
                reader.close();
                throw new IOException("the stored blob " + blob.digest() + " is " + size + " bytes, expected "
                        + blob.size());
            }
            InputStream in = reader.inputStream(read);
            stored = new InputStream() {
                @Override
                public int read() throws IOException {
                    return in.read();
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    return in.read(b, off, len);
                }

                @Override
                public void close() throws IOException {
                    try {
                        in.close();
                    } finally {
                        reader.close();
                    }
                }
            };
            return false;
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            synchronized (BlobTee.this) {
                detached = true;
                chunks.clear();
                buffered = 0;
                BlobTee.this.notifyAll();
            }
            if (stored != null) {
                stored.close();
            }
        }
    }
}
