package dev.berth.testing;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.MediaTypes;
import dev.berth.api.MediaTypes.Compression;
import java.util.List;

/**
 * A layer built by {@link LayerBuilder}: the blob as it would sit in a registry and the tar it
 * decompresses to. Immutable; the arrays are shared, do not modify them.
 *
 * @param blob       the layer blob (compressed as {@code compression} says)
 * @param tar        the uncompressed tar
 * @param digest     sha256 of {@code blob}
 * @param diffId     sha256 of {@code tar}, the value in an image config's {@code rootfs.diff_ids}
 * @param entries    the entries in the order they were written
 */
public record TestLayer(byte[] blob, byte[] tar, Compression compression, Digest digest, Digest diffId,
                        List<TarEntry> entries) {
    public TestLayer {
        entries = List.copyOf(entries);
    }

    /** Size of the blob in bytes. */
    public long size() {
        return blob.length;
    }

    /** The OCI media type for this compression ({@code ...layer.v1.tar}, {@code +gzip}, {@code +zstd}). */
    public String ociMediaType() {
        return switch (compression) {
            case NONE -> MediaTypes.OCI_LAYER;
            case GZIP -> MediaTypes.OCI_LAYER_GZIP;
            case ZSTD -> MediaTypes.OCI_LAYER_ZSTD;
            case UNKNOWN -> throw new IllegalStateException("layer without known compression");
        };
    }

    /**
     * The Docker schema2 media type; Docker has no zstd type, so zstd layers keep the OCI one (as
     * {@code docker buildx} does).
     */
    public String dockerMediaType() {
        return switch (compression) {
            case NONE -> MediaTypes.DOCKER_LAYER;
            case GZIP -> MediaTypes.DOCKER_LAYER_GZIP;
            case ZSTD -> MediaTypes.OCI_LAYER_ZSTD;
            case UNKNOWN -> throw new IllegalStateException("layer without known compression");
        };
    }

    /** The blob's descriptor with the OCI media type. */
    public Descriptor descriptor() {
        return new Descriptor(ociMediaType(), digest, blob.length);
    }

    /** The same tar, compressed differently (the diffID stays the same). */
    public TestLayer recompressed(Compression newCompression) {
        return LayerBuilder.fromTar(tar, entries, newCompression);
    }

    @Override
    public String toString() {
        return "TestLayer[" + digest + " " + compression + " " + blob.length + " bytes, diffId=" + diffId
                + ", " + entries.size() + " entries]";
    }
}
