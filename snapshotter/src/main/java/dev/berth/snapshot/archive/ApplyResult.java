package dev.berth.snapshot.archive;

import java.util.Objects;

import dev.berth.api.Digest;

/**
 * What applying a layer produced.
 *
 * @param diffId           sha256 of the whole uncompressed stream (tar end marker and any trailing
 *                         bytes included), the layer's OCI diffID
 * @param uncompressedSize bytes of the uncompressed stream
 * @param compressedSize   bytes read from the caller's stream
 * @param compression      the compression detected from the stream's first bytes
 * @param entries          tar entries processed (whiteouts included, PAX/GNU meta headers excluded)
 */
public record ApplyResult(Digest diffId, long uncompressedSize, long compressedSize, Compression compression,
                          long entries) {
    public ApplyResult {
        Objects.requireNonNull(diffId, "diffId");
        Objects.requireNonNull(compression, "compression");
    }
}
