package dev.berth.api;

import java.io.InputStream;

/** An input stream that hashes every byte read through it. Skipped bytes are read and hashed too. */
public final class DigestingInputStream extends CountingInputStream {
    private final Digester digester;

    public DigestingInputStream(InputStream in, Digester digester) {
        super(in);
        this.digester = digester;
    }

    public DigestingInputStream(InputStream in) {
        this(in, Digester.sha256());
    }

    @Override
    protected void bytesRead(byte[] b, int off, int n) {
        digester.update(b, off, n);
    }

    /** Bytes hashed so far (by the digester, including any it had hashed before this stream). */
    @Override
    public long count() {
        return digester.count();
    }

    /** The digest of the bytes read so far. */
    public Digest digest() {
        return digester.digest();
    }
}
