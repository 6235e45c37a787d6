package dev.berth.api;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An OCI content descriptor: what a blob is ({@code mediaType}), where it is ({@code digest}) and how
 * big it is ({@code size}), plus optional urls, annotations and platform. Berth checks {@code size} as
 * well as {@code digest} whenever it reads a blob through a descriptor.
 *
 * @param platform null unless the descriptor sits in an index
 */
public record Descriptor(String mediaType, Digest digest, long size, List<String> urls,
                         Map<String, String> annotations, Platform platform) {
    public Descriptor {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
        if (size < 0) {
            throw new InvalidArgumentException("descriptor " + digest + ": negative size " + size);
        }
        urls = urls == null ? List.of() : List.copyOf(urls);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    public Descriptor(String mediaType, Digest digest, long size) {
        this(mediaType, digest, size, List.of(), Map.of(), null);
    }

    /** A descriptor for {@code bytes} with the sha256 digest. */
    public static Descriptor of(String mediaType, byte[] bytes) {
        return new Descriptor(mediaType, Digest.sha256(bytes), bytes.length);
    }

    public Optional<Platform> platformIfPresent() {
        return Optional.ofNullable(platform);
    }

    public Descriptor withAnnotations(Map<String, String> newAnnotations) {
        return new Descriptor(mediaType, digest, size, urls, newAnnotations, platform);
    }

    public Descriptor withPlatform(Platform newPlatform) {
        return new Descriptor(mediaType, digest, size, urls, annotations, newPlatform);
    }

    public Descriptor withMediaType(String newMediaType) {
        return new Descriptor(newMediaType, digest, size, urls, annotations, platform);
    }
}
