package dev.berth.image;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.Platform;
import dev.berth.api.oci.image.ChainIds;
import dev.berth.api.oci.image.ImageConfig;
import dev.berth.api.oci.image.Manifest;
import java.util.List;
import java.util.Objects;

/**
 * An image resolved for one platform: the descriptor the name points at ({@code target}, an index or a
 * manifest), the chosen manifest with its descriptor, and the parsed config. Every blob on the way was
 * checked against its descriptor's digest and size, and the config has one diffID per layer.
 *
 * @param name     the image name it was resolved from, or null when resolved from a bare descriptor
 * @param target   what the name points at
 * @param manifestDescriptor the chosen manifest's descriptor (with platform if it came from an index)
 * @param manifest the chosen manifest
 * @param config   its config
 */
public record ResolvedImage(String name, Descriptor target, Descriptor manifestDescriptor, Manifest manifest,
                            ImageConfig config) {
    public ResolvedImage {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(manifestDescriptor, "manifestDescriptor");
        Objects.requireNonNull(manifest, "manifest");
        Objects.requireNonNull(config, "config");
    }

    /** The platform the config declares. */
    public Platform platform() {
        return config.platform();
    }

    /** The layer descriptors, lowest first. */
    public List<Descriptor> layers() {
        return manifest.layers();
    }

    /** The config's {@code rootfs.diff_ids}. */
    public List<Digest> diffIds() {
        return config.diffIds();
    }

    /** The chainID of each layer prefix; element {@code i} names the snapshot of layers 0..i. */
    public List<Digest> chainIds() {
        return ChainIds.chainIds(config.diffIds());
    }

    /** The snapshot name of the whole unpacked image; null for an image without layers. */
    public Digest topChainId() {
        List<Digest> chain = chainIds();
        return chain.isEmpty() ? null : chain.get(chain.size() - 1);
    }
}
