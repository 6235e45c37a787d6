package dev.berth.snapshot.archive;

/** Layer compressions recognised by their magic bytes, as containerd detects them. */
public enum Compression {
    /** Plain tar. */
    NONE,
    /** gzip: {@code 1f 8b 08}. */
    GZIP,
    /** zstd: frame magic {@code 28 b5 2f fd}, or a skippable frame {@code 5?  2a 4d 18} first. */
    ZSTD;

    /** Bytes {@link #detect} needs to decide. */
    public static final int MAGIC_LENGTH = 4;

    /** The compression whose magic starts {@code head} (of which {@code length} bytes are valid). */
    public static Compression detect(byte[] head, int length) {
        if (length >= 3 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b && (head[2] & 0xff) == 0x08) {
            return GZIP;
        }
        if (length >= 4) {
            int b0 = head[0] & 0xff;
            int b1 = head[1] & 0xff;
            int b2 = head[2] & 0xff;
            int b3 = head[3] & 0xff;
            if (b0 == 0x28 && b1 == 0xb5 && b2 == 0x2f && b3 == 0xfd) {
                return ZSTD;
            }
            if ((b0 & 0xf0) == 0x50 && b1 == 0x2a && b2 == 0x4d && b3 == 0x18) {
                return ZSTD;
            }
        }
        return NONE;
    }
}
