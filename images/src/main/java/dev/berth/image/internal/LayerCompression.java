package dev.berth.image.internal;

import dev.berth.api.MediaTypes.Compression;

/** Compression detection by magic bytes, as containerd's {@code compression.DetectCompression}. */
final class LayerCompression {
    private LayerCompression() {
    }

    static Compression detect(byte[] head, int length) {
        if (length >= 3 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b && (head[2] & 0xff) == 0x08) {
            return Compression.GZIP;
        }
        if (length >= 4) {
            int b0 = head[0] & 0xff;
            int b1 = head[1] & 0xff;
            int b2 = head[2] & 0xff;
            int b3 = head[3] & 0xff;
            if ((b0 == 0x28 && b1 == 0xb5 && b2 == 0x2f && b3 == 0xfd)
                    || ((b0 & 0xf0) == 0x50 && b1 == 0x2a && b2 == 0x4d && b3 == 0x18)) {
                return Compression.ZSTD;
            }
        }
        return Compression.NONE;
    }
}
