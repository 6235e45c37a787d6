package dev.berth.api;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** An input stream that hashes every byte read through it. Skipped bytes are read and hashed too. */
public final class DigestingInputStream extends FilterInputStream {
    private final Digester digester;

    public DigestingInputStream(InputStream in, Digester digester) {
        super(in);
        this.digester = digester;
    }

    public DigestingInputStream(InputStream in) {
        this(in, Digester.sha256());
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            digester.update(new byte[] {(byte) b}, 0, 1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            digester.update(b, off, n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[8192];
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
    public boolean markSupported() {
        return false;
    }

    /** Bytes read so far. */
    public long count() {
        return digester.count();
    }

    /** The digest of the bytes read so far. */
    public Digest digest() {
        return digester.digest();
    }
}
