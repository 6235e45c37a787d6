package dev.berth.registry;

import dev.berth.api.Descriptor;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.image.ImageService;
import dev.berth.image.ResolvedImage;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Turns a pulled image into snapshots. The images module provides the real one; the registry client
 * only calls it after every blob of the image is in the content store.
 */
@FunctionalInterface
public interface Unpacker {

    /**
     * Unpacks the platform manifest {@code manifest} of the image {@code name}, calling
     * {@code layerUnpacked} once per layer applied (or found already unpacked).
     */
    void unpack(String name, Descriptor manifest, Consumer<Descriptor> layerUnpacked);

    /**
     * Unpacks with the images module: resolves the pulled manifest in {@code images}' content store
     * (checking every blob and the config's diffIDs) and unpacks it into {@code snapshotter}.
     */
    static Unpacker of(ImageService images, Snapshotter snapshotter) {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(snapshotter, "snapshotter");
        return (name, manifest, layerUnpacked) -> {
            ResolvedImage resolved = images.resolve(manifest, PlatformMatcher.all());
            images.unpack(resolved, snapshotter);
            resolved.layers().forEach(layerUnpacked);
        };
    }
}
