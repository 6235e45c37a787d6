package dev.berth.api;

import java.io.IOException;
import java.io.InputStream;

/**
 * A stream of a blob that counts (and, given an expected digest, hashes) what passes through it and,
 * on reaching the end, throws the caller's exception if the size or the digest does not match.
 */
public class VerifyingInputStream extends CountingInputStream {
    /** Makes the exception for a mismatch, naming the blob as the caller knows it. */
    public interface Mismatch {
        IOException size(long actual);

        IOException digest(Digest actual);
    }

    private final long expectedSize;
    private final Digest expectedDigest;
    private final Digester digester;
    private final Mismatch mismatch;
    private boolean checked;

    /**
     * @param expectedDigest the digest to check, or null to check only the size (for a caller that
     *                       hashes the same bytes itself)
     */
    public VerifyingInputStream(InputStream in, long expectedSize, Digest expectedDigest, Mismatch mismatch) {
        super(in);
        this.expectedSize = expectedSize;
        this.expectedDigest = expectedDigest;
        this.digester = expectedDigest == null ? null : Digester.of(expectedDigest.algorithm());
        this.mismatch = mismatch;
    }

    @Override
    protected void bytesRead(byte[] b, int off, int n) {
        if (digester != null) {
            digester.update(b, off, n);
        }
    }

    @Override
    protected void ended() throws IOException {
        if (checked) {
            return;
        }
        checked = true;
        if (count() != expectedSize) {
            throw mismatch.size(count());
        }
        if (digester != null) {
            Digest actual = digester.digest();
            if (!actual.equals(expectedDigest)) {
                throw mismatch.digest(actual);
            }
        }
    }
}
