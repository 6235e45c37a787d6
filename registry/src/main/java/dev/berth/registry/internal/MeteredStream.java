package dev.berth.registry.internal;

import dev.berth.api.CountingInputStream;
import dev.berth.api.Descriptor;
import dev.berth.registry.ProgressListener;
import dev.berth.registry.TransferStalledException;
import java.io.IOException;
import java.io.InputStream;

/**
 * A blob's response body that reports progress (at most every 100 ms), feeds the stall watchdog, turns
 * an abort by the watchdog into {@link TransferStalledException}, and treats an end of stream before the
 * expected length as a broken connection (an {@link IOException}, so the caller resumes).
 */
final class MeteredStream extends CountingInputStream {
    private static final long REPORT_NANOS = 100_000_000L;

    private final Descriptor blob;
    private final ProgressListener progress;
    private final StallWatchdog.Watch watch;
    private final long expectedEnd;
    private final java.time.Duration timeout;
    private final java.util.function.LongConsumer onBytes;
    private final long start;
    private long lastReport;
    private boolean closed;

    /**
     * @param start offset of the first byte of this stream within the blob
     * @param bytesRead called with the count of each read that moved bytes; may be null
     */
    MeteredStream(InputStream in, Descriptor blob, long start, ProgressListener progress, StallWatchdog watchdog,
                  java.util.function.LongConsumer bytesRead) {
        super(in);
        this.blob = blob;
        this.progress = progress;
        this.start = start;
        this.expectedEnd = blob.size();
        this.watch = watchdog.watch(this::abort);
        this.timeout = watchdog.timeout();
        this.onBytes = bytesRead;
        this.lastReport = System.nanoTime();
    }

    private void abort() {
        try {
            in.close();
        } catch (IOException e) {
            // the reader notices the stall flag
        }
    }

    @Override
    protected void bytesRead(byte[] b, int off, int n) {
        if (watch.stalled()) {
            throw stalled();
        }
        long position = start + count();
        watch.touch();
        if (onBytes != null) {
            onBytes.accept(n);
        }
        long now = System.nanoTime();
        if (now - lastReport >= REPORT_NANOS || position == expectedEnd) {
            lastReport = now;
            progress.blobProgress(blob, position);
        }
        if (position == expectedEnd) {
            progress.blobDone(blob);
        }
    }

    @Override
    protected void ended() throws IOException {
        if (watch.stalled()) {
            throw stalled();
        }
        long position = start + count();
        if (expectedEnd > 0 && position < expectedEnd) {
            throw new IOException("connection closed after " + position + " of " + expectedEnd + " bytes of "
                    + blob.digest());
        }
    }

    @Override
    protected IOException failed(IOException e) {
        if (watch.stalled()) {
            throw stalled();
        }
        return e;
    }

    private TransferStalledException stalled() {
        return new TransferStalledException(blob.digest(), watch.idle(), "blob " + blob.digest() + " stalled: no "
                + "data for " + watch.idle().toMillis() + " ms (stall timeout "
                + timeout.toMillis() + " ms) after " + (start + count()) + " of " + expectedEnd
                + " bytes; the bytes received are kept and the next pull resumes from there");
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            watch.close();
            in.close();
        }
    }
}
