package dev.berth.api.oci.image;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import java.util.Arrays;
import java.util.Objects;

/**
 * The exact bytes a document was parsed from. Digests and sizes of parsed documents are always taken
 * from these bytes, never from re-serialized JSON, because re-serializing changes whitespace, key order
 * and escaping and with them the digest. Immutable and thread-safe; equal when the bytes are equal.
 */
public final class RawJson {
    private final byte[] bytes;
    private volatile Digest digest;

    private RawJson(byte[] bytes) {
        this.bytes = bytes;
    }

    /** Wraps a copy of {@code bytes}. */
    public static RawJson of(byte[] bytes) {
        return new RawJson(Objects.requireNonNull(bytes, "bytes").clone());
    }

    /** A copy of the bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    public int size() {
        return bytes.length;
    }

    /** The sha256 digest of the bytes. */
    public Digest digest() {
        Digest d = digest;
        if (d == null) {
            d = Digest.sha256(bytes);
            digest = d;
        }
        return d;
    }

    /** A descriptor for these bytes with the given media type. */
    public Descriptor descriptor(String mediaType) {
        return new Descriptor(mediaType, digest(), bytes.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RawJson other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "RawJson[" + bytes.length + " bytes, " + digest() + "]";
    }
}
