package dev.berth.api;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A content digest such as {@code sha256:9f86d0…}: the address of every blob in Berth.
 *
 * <p>Only the algorithms containerd registers are accepted: {@code sha256} (64 lower-case hex digits)
 * and {@code sha512} (128). Anything else is rejected with an {@link InvalidArgumentException} naming
 * the input, so a malformed digest never reaches the file system (it is used as a path component).
 */
public record Digest(String algorithm, String hex) implements Comparable<Digest> {
    public static final String SHA256 = "sha256";
    public static final String SHA512 = "sha512";

    public Digest {
        Objects.requireNonNull(algorithm, "algorithm");
        Objects.requireNonNull(hex, "hex");
        int expected = hexLength(algorithm);
        if (expected < 0) {
            throw new InvalidArgumentException(
                    "unsupported digest algorithm \"" + algorithm + "\" (expected sha256 or sha512)");
        }
        if (hex.length() != expected || !isLowerHex(hex)) {
            throw new InvalidArgumentException("invalid " + algorithm + " digest \"" + algorithm + ":" + hex
                    + "\": expected " + expected + " lower-case hex digits");
        }
    }

    /** Parses {@code <algorithm>:<hex>}. */
    public static Digest parse(String value) {
        Objects.requireNonNull(value, "digest");
        int colon = value.indexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new InvalidArgumentException("invalid digest \"" + value + "\": expected <algorithm>:<hex>");
        }
        return new Digest(value.substring(0, colon), value.substring(colon + 1));
    }

    /** The sha256 digest of {@code bytes}. */
    public static Digest sha256(byte[] bytes) {
        return of(SHA256, bytes);
    }

    /** The sha512 digest of {@code bytes}. */
    public static Digest sha512(byte[] bytes) {
        return of(SHA512, bytes);
    }

    /** The digest of {@code bytes} with {@code algorithm}. */
    public static Digest of(String algorithm, byte[] bytes) {
        Digester d = Digester.of(algorithm);
        d.update(bytes, 0, bytes.length);
        return d.digest();
    }

    /** Whether {@code algorithm} is one Berth supports. */
    public static boolean isSupported(String algorithm) {
        return algorithm != null && hexLength(algorithm) > 0;
    }

    static int hexLength(String algorithm) {
        return switch (algorithm) {
            case SHA256 -> 64;
            case SHA512 -> 128;
            default -> -1;
        };
    }

    static String jcaName(String algorithm) {
        return switch (algorithm) {
            case SHA256 -> "SHA-256";
            case SHA512 -> "SHA-512";
            default -> throw new InvalidArgumentException("unsupported digest algorithm \"" + algorithm + "\"");
        };
    }

    static MessageDigest newMessageDigest(String algorithm) {
        try {
            return MessageDigest.getInstance(jcaName(algorithm));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("JDK lacks " + algorithm, e);
        }
    }

    static Digest fromBytes(String algorithm, byte[] sum) {
        return new Digest(algorithm, HexFormat.of().formatHex(sum));
    }

    private static boolean isLowerHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    /** The raw digest bytes. */
    public byte[] bytes() {
        return HexFormat.of().parseHex(hex);
    }

    /** Short form for logs: algorithm and the first 12 hex digits. */
    public String shortForm() {
        return algorithm + ":" + hex.substring(0, 12);
    }

    @Override
    public int compareTo(Digest o) {
        int c = algorithm.compareTo(o.algorithm);
        return c != 0 ? c : hex.compareTo(o.hex);
    }

    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }
}
