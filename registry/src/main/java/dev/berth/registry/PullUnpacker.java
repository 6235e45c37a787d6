package dev.berth.registry;

import dev.berth.api.Descriptor;
import dev.berth.api.image.LayerGate;
import java.util.function.Consumer;

/**
 * Turns a pulled image into snapshots while its layers download. The registry client calls it for each
 * platform manifest once the manifest and its config are in the content store; layer blobs may still be
 * arriving, and {@code layers} says when each one is there. Berth's core supplies one that unpacks with
 * the images module, so the registry client itself needs no snapshotter.
 */
@FunctionalInterface
public interface PullUnpacker {

    /**
     * Unpacks the platform manifest {@code manifest} of the image {@code name}, calling
     * {@link LayerGate#await layers.await(layer)} before reading a layer blob and {@code layerUnpacked}
     * once per layer applied (or found already unpacked).
     */
    void unpack(String name, Descriptor manifest, LayerGate layers, Consumer<Descriptor> layerUnpacked);
}
