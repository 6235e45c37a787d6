package dev.berth.image.internal;

import dev.berth.api.MediaTypes.Compression;

/** The layer applier's magic-byte detection, in core-api's terms. */
final class LayerCompression {
    private LayerCompression() {
    }

    static Compression detect(byte[] head, int length) {
        return switch (dev.berth.snapshot.archive.Compression.detect(head, length)) {
            case GZIP -> Compression.GZIP;
            case ZSTD -> Compression.ZSTD;
            case NONE -> Compression.NONE;
        };
    }
}
