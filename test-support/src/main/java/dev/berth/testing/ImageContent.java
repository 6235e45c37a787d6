package dev.berth.testing;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import java.util.Map;

/**
 * What an image name can point at: a single-platform {@link TestImage} (a manifest) or a
 * {@link TestIndex} (an index / manifest list).
 */
public sealed interface ImageContent permits TestImage, TestIndex {
    /** The descriptor of this manifest or index blob (no platform, no annotations). */
    Descriptor descriptor();

    /** The exact JSON bytes of the manifest or index; {@code descriptor().digest()} is their sha256. */
    byte[] bytes();

    /**
     * Every blob reachable from here, including this one, by digest, in a stable order (configs and
     * layers before the manifests that name them, children before their index).
     */
    Map<Digest, byte[]> blobs();
}
