package dev.berth.junit.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The sha256 that names a reusable container's configuration. */
public final class ReuseKey {
    private ReuseKey() {
    }

    public static String of(String description) {
        return of(description.getBytes(StandardCharsets.UTF_8));
    }

    public static String of(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
