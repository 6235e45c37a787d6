package dev.berth.image;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import java.util.Objects;

/**
 * A blob's bytes do not match the descriptor they were read through: a different size or a different
 * digest. containerd ignores sizes when reading; Berth rejects both, so a truncated or corrupted blob
 * never becomes a manifest, a config or a layer. The message names the blob, where it came from, and
 * the expected and actual values.
 */
public class BlobMismatchException extends FailedPreconditionException {
    private static final long serialVersionUID = 1L;

    /** What differs. */
    public enum Kind { SIZE, DIGEST }

    private final Digest blob;
    private final Kind kind;
    private final String expected;
    private final String actual;

    public BlobMismatchException(Digest blob, Kind kind, String expected, String actual, String where) {
        super("blob " + blob + (where == null || where.isEmpty() ? "" : " (" + where + ")") + ": "
                + (kind == Kind.SIZE ? "size " + actual + " bytes, but the descriptor says " + expected
                        : "content hashes to " + actual + ", expected " + expected));
        this.blob = Objects.requireNonNull(blob, "blob");
        this.kind = Objects.requireNonNull(kind, "kind");
        this.expected = expected;
        this.actual = actual;
    }

    /** The blob's size differs from {@code desc.size()}. */
    public static BlobMismatchException size(Descriptor desc, long actualSize, String where) {
        return new BlobMismatchException(desc.digest(), Kind.SIZE, Long.toString(desc.size()),
                Long.toString(actualSize), where);
    }

    /** The blob's bytes hash to {@code actualDigest} rather than {@code desc.digest()}. */
    public static BlobMismatchException digest(Descriptor desc, Digest actualDigest, String where) {
        return new BlobMismatchException(desc.digest(), Kind.DIGEST, desc.digest().toString(),
                actualDigest.toString(), where);
    }

    /** The digest the blob was read (or stored) under. */
    public Digest blob() {
        return blob;
    }

    public Kind kind() {
        return kind;
    }

    /** The expected size (decimal) or digest. */
    public String expected() {
        return expected;
    }

    /** The actual size (decimal) or digest. */
    public String actual() {
        return actual;
    }
}
