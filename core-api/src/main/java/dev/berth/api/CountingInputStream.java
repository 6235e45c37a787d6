package dev.berth.api;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * An input stream that counts the bytes read through it: the base of Berth's digesting, verifying and
 * metering streams, which observe the bytes through {@link #bytesRead}, the end through {@link #ended}
 * and a failure of the underlying stream through {@link #failed}. Skipped bytes are read, so they are
 * counted and observed too; mark and reset are not supported.
 */
public class CountingInputStream extends FilterInputStream {
    // volatile: a stream read on one thread may be measured from another (progress, ratio limits)
    private volatile long count;

    public CountingInputStream(InputStream in) {
        super(in);
    }

    @Override
    public final int read() throws IOException {
        byte[] one = new byte[1];
        int n;
        do {
            n = read(one, 0, 1);
        } while (n == 0);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n;
        try {
            n = in.read(b, off, len);
        } catch (IOException e) {
            throw failed(e);
        }
        if (n > 0) {
            count += n;
            bytesRead(b, off, n);
        } else if (n < 0) {
            ended();
        }
        return n;
    }

    @Override
    public final long skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.max(1, Math.min(n, 8192))];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public final boolean markSupported() {
        return false;
    }

    /** Bytes read so far. */
    public long count() {
        return count;
    }

    /** Called with every run of bytes read, after counting them. */
    protected void bytesRead(byte[] b, int off, int n) throws IOException {
    }

    /** Called each time the underlying stream reports its end. */
    protected void ended() throws IOException {
    }

    /** Called when the underlying stream fails; returns what to throw instead (by default, {@code e}). */
    protected IOException failed(IOException e) {
        return e;
    }
}
