package dev.berth.registry.internal;

import dev.berth.api.Descriptor;
import dev.berth.registry.ProgressListener;
import dev.berth.registry.TransferStalledException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A blob's response body that reports progress (at most every 100 ms), feeds the stall watchdog, turns
 * an abort by the watchdog into {@link TransferStalledException}, and treats an end of stream before the
 * expected length as a broken connection (an {@link IOException}, so the caller resumes).
 */
final class MeteredStream extends FilterInputStream {
    private static final long REPORT_NANOS = 100_000_000L;

    private final Descriptor blob;
    private final ProgressListener progress;
    private final StallWatchdog.Watch watch;
    private final long expectedEnd;
    private final java.time.Duration timeout;
    private final java.util.function.LongConsumer bytesRead;
    private long position;
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
        this.position = start;
        this.expectedEnd = blob.size();
        this.watch = watchdog.watch(this::abort);
        this.timeout = watchdog.timeout();
        this.bytesRead = bytesRead;
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
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n;
        try {
            n = in.read(b, off, len);
        } catch (IOException e) {
            throw stallOr(e);
        }
        if (watch.stalled()) {
            throw stalled();
        }
        if (n > 0) {
            position += n;
            watch.touch();
            if (bytesRead != null) {
                bytesRead.accept(n);
            }
            long now = System.nanoTime();
            if (now - lastReport >= REPORT_NANOS || position == expectedEnd) {
                lastReport = now;
                progress.blobProgress(blob, position);
            }
            if (position == expectedEnd) {
                progress.blobDone(blob);
            }
        } else if (n < 0 && expectedEnd > 0 && position < expectedEnd) {
            throw new IOException("connection closed after " + position + " of " + expectedEnd + " bytes of "
                    + blob.digest());
        }
        return n;
    }

    private IOException stallOr(IOException e) {
        if (watch.stalled()) {
            throw stalled();
        }
        return e;
    }

    private TransferStalledException stalled() {
        return new TransferStalledException(blob.digest(), watch.idle(), "blob " + blob.digest() + " stalled: no "
                + "data for " + watch.idle().toMillis() + " ms (stall timeout "
                + timeout.toMillis() + " ms) after " + position + " of " + expectedEnd
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
