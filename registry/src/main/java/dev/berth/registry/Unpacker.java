package dev.berth.registry;

import dev.berth.api.Descriptor;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.image.ImageService;
import dev.berth.image.LayerGate;
import dev.berth.image.ResolvedImage;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Turns a pulled image into snapshots while its layers download. The registry client calls it for each
 * platform manifest once the manifest and its config are in the content store; layer blobs may still be
 * arriving, and {@code layers} says when each one is there. The images module provides the real one.
 */
@FunctionalInterface
public interface Unpacker {

    /**
     * Unpacks the platform manifest {@code manifest} of the image {@code name}, calling
     * {@link LayerGate#await layers.await(layer)} before reading a layer blob and {@code layerUnpacked}
     * once per layer applied (or found already unpacked).
     */
    void unpack(String name, Descriptor manifest, LayerGate layers, Consumer<Descriptor> layerUnpacked);

    /**
     * Unpacks with the images module: resolves the pulled manifest in {@code images}' content store
     * (checking the config's diffIDs) and unpacks it into {@code snapshotter}, each layer as soon as its
     * blob has arrived and the layer below it is applied.
     */
    static Unpacker of(ImageService images, Snapshotter snapshotter) {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(snapshotter, "snapshotter");
        return (name, manifest, layers, layerUnpacked) -> {
            ResolvedImage resolved = images.resolve(manifest, PlatformMatcher.all());
            images.unpack(resolved, snapshotter, layers);
            resolved.layers().forEach(layerUnpacked);
        };
    }
}
