package dev.berth.api;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * Incremental digest computation. Not thread-safe; {@link #digest()} may be called at any time and
 * does not reset or disturb the running state, so a writer can report its digest so far.
 */
public final class Digester {
    private final String algorithm;
    private final MessageDigest md;
    private long count;

    private Digester(String algorithm, MessageDigest md) {
        this.algorithm = algorithm;
        this.md = md;
    }

    public static Digester sha256() {
        return of(Digest.SHA256);
    }

    public static Digester of(String algorithm) {
        Objects.requireNonNull(algorithm, "algorithm");
        if (!Digest.isSupported(algorithm)) {
            throw new InvalidArgumentException("unsupported digest algorithm \"" + algorithm + "\"");
        }
        return new Digester(algorithm, Digest.newMessageDigest(algorithm));
    }

    public String algorithm() {
        return algorithm;
    }

    public void update(byte[] bytes, int offset, int length) {
        md.update(bytes, offset, length);
        count += length;
    }

    /** Hashes the remaining bytes of {@code buffer}, advancing its position to its limit. */
    public void update(ByteBuffer buffer) {
        count += buffer.remaining();
        md.update(buffer);
    }

    /** Bytes hashed so far. */
    public long count() {
        return count;
    }

    /** The digest of everything hashed so far; hashing may continue afterwards. */
    public Digest digest() {
        try {
            MessageDigest copy = (MessageDigest) md.clone();
            return Digest.fromBytes(algorithm, copy.digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("MessageDigest for " + algorithm + " cannot be cloned", e);
        }
    }

    /** Forgets everything hashed so far. */
    public void reset() {
        md.reset();
        count = 0;
    }
}
