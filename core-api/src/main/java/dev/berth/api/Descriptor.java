package dev.berth.api;

import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An OCI content descriptor: what a blob is ({@code mediaType}), where it is ({@code digest}) and how
 * big it is ({@code size}), plus optional urls, annotations, platform and the OCI 1.1 fields
 * {@code artifactType} and {@code data} (the blob's bytes embedded in the descriptor). Berth checks
 * {@code size} as well as {@code digest} whenever it reads a blob through a descriptor, and checks
 * embedded {@code data} the same way before using it ({@link #verifiedData()}).
 *
 * @param platform     null unless the descriptor sits in an index
 * @param artifactType OCI 1.1 artifact type, or null
 * @param data         the embedded content (JSON: base64), or null; copied in and out, never shared
 */
public record Descriptor(String mediaType, Digest digest, long size, List<String> urls,
                         Map<String, String> annotations, Platform platform, String artifactType, byte[] data) {
    public Descriptor {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
        if (size < 0) {
            throw new InvalidArgumentException("descriptor " + digest + ": negative size " + size);
        }
        urls = urls == null ? List.of() : List.copyOf(urls);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        artifactType = artifactType == null || artifactType.isEmpty() ? null : artifactType;
        data = data == null ? null : data.clone();
    }

    public Descriptor(String mediaType, Digest digest, long size, List<String> urls,
                      Map<String, String> annotations, Platform platform) {
        this(mediaType, digest, size, urls, annotations, platform, null, null);
    }

    public Descriptor(String mediaType, Digest digest, long size) {
        this(mediaType, digest, size, List.of(), Map.of(), null);
    }

    /** A descriptor for {@code bytes} with the sha256 digest. */
    public static Descriptor of(String mediaType, byte[] bytes) {
        return new Descriptor(mediaType, Digest.sha256(bytes), bytes.length);
    }

    /** The embedded content (a copy), or null. Unverified: see {@link #verifiedData()}. */
    @Override
    public byte[] data() {
        return data == null ? null : data.clone();
    }

    public Optional<Platform> platformIfPresent() {
        return Optional.ofNullable(platform);
    }

    public Optional<String> artifactTypeIfPresent() {
        return Optional.ofNullable(artifactType);
    }

    /**
     * The embedded {@code data} after checking it against {@link #size()} and {@link #digest()}; empty
     * when there is none.
     *
     * @throws InvalidArgumentException naming the descriptor if the data does not match
     */
    public Optional<byte[]> verifiedData() {
        if (data == null) {
            return Optional.empty();
        }
        if (data.length != size) {
            throw new InvalidArgumentException("descriptor " + digest + ": embedded data is " + data.length
                    + " bytes but the descriptor says " + size);
        }
        Digest actual = Digest.of(digest.algorithm(), data);
        if (!actual.equals(digest)) {
            throw new InvalidArgumentException("descriptor " + digest + ": embedded data has digest " + actual);
        }
        return Optional.of(data.clone());
    }

    public Descriptor withAnnotations(Map<String, String> newAnnotations) {
        return new Descriptor(mediaType, digest, size, urls, newAnnotations, platform, artifactType, data);
    }

    public Descriptor withPlatform(Platform newPlatform) {
        return new Descriptor(mediaType, digest, size, urls, annotations, newPlatform, artifactType, data);
    }

    public Descriptor withMediaType(String newMediaType) {
        return new Descriptor(newMediaType, digest, size, urls, annotations, platform, artifactType, data);
    }

    public Descriptor withArtifactType(String newArtifactType) {
        return new Descriptor(mediaType, digest, size, urls, annotations, platform, newArtifactType, data);
    }

    /** This descriptor with {@code newData} embedded (null removes it); not checked here. */
    public Descriptor withData(byte[] newData) {
        return new Descriptor(mediaType, digest, size, urls, annotations, platform, artifactType, newData);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Descriptor d && size == d.size && mediaType.equals(d.mediaType)
                && digest.equals(d.digest) && urls.equals(d.urls) && annotations.equals(d.annotations)
                && Objects.equals(platform, d.platform) && Objects.equals(artifactType, d.artifactType)
                && Arrays.equals(data, d.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(mediaType, digest, size, urls, annotations, platform, artifactType)
                * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "Descriptor[mediaType=" + mediaType + ", digest=" + digest + ", size=" + size
                + (urls.isEmpty() ? "" : ", urls=" + urls)
                + (annotations.isEmpty() ? "" : ", annotations=" + annotations)
                + (platform == null ? "" : ", platform=" + platform)
                + (artifactType == null ? "" : ", artifactType=" + artifactType)
                + (data == null ? "" : ", data=" + Base64.getEncoder().encodeToString(data)) + "]";
    }
}
