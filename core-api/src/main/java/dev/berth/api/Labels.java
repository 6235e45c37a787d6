package dev.berth.api;

import java.util.Map;

/**
 * Label validation and the label keys containerd gives meaning to. Like containerd, a label's key plus
 * value may be at most 4096 bytes and the key must not be empty.
 */
public final class Labels {
    public static final int MAX_SIZE = 4096;

    /** diffID of a compressed layer blob. */
    public static final String UNCOMPRESSED = "containerd.io/uncompressed";
    /** Keeps the labelled object alive through GC. */
    public static final String GC_ROOT = "containerd.io/gc.root";
    /** Prefix of labels that point GC from a blob or snapshot to a content blob. */
    public static final String GC_REF_CONTENT = "containerd.io/gc.ref.content";
    /** Prefix of labels {@code containerd.io/gc.ref.snapshot.<snapshotter>} pointing to a snapshot key. */
    public static final String GC_REF_SNAPSHOT = "containerd.io/gc.ref.snapshot.";
    /** Lease expiry, RFC 3339. */
    public static final String GC_EXPIRE = "containerd.io/gc.expire";
    /** A lease that holds only its named resources, not what they reference. */
    public static final String GC_FLAT = "containerd.io/gc.flat";
    /** Prefix of {@code containerd.io/distribution.source.<registry host>} = repository names. */
    public static final String DISTRIBUTION_SOURCE = "containerd.io/distribution.source.";
    /** Snapshot label carrying the chainID a snapshot is being unpacked for. */
    public static final String SNAPSHOT_REF = "containerd.io/snapshot.ref";

    private Labels() {
    }

    /** Throws {@link InvalidArgumentException} naming the first bad label. */
    public static Map<String, String> validate(Map<String, String> labels) {
        if (labels == null) {
            return Map.of();
        }
        for (Map.Entry<String, String> e : labels.entrySet()) {
            validate(e.getKey(), e.getValue());
        }
        return labels;
    }

    public static void validate(String key, String value) {
        if (key == null || key.isEmpty()) {
            throw new InvalidArgumentException("label key must not be empty");
        }
        if (value == null) {
            throw new InvalidArgumentException("label " + key + " has no value");
        }
        int size = utf8Length(key) + utf8Length(value);
        if (size > MAX_SIZE) {
            throw new InvalidArgumentException("label " + key + ": key and value are " + size
                    + " bytes; the limit is " + MAX_SIZE);
        }
    }

    private static int utf8Length(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }
}
