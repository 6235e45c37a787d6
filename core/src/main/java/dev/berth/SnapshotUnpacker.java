package dev.berth;

import dev.berth.api.Descriptor;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.image.LayerGate;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.image.ImageService;
import dev.berth.image.ResolvedImage;
import dev.berth.registry.PullUnpacker;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The {@link PullUnpacker} that joins the registry client to the images module: resolves each pulled
 * manifest in the image service's content store (checking the config's diffIDs) and unpacks it into a
 * snapshotter, each layer as soon as its blob has arrived and the layer below it is applied. It lives here,
 * not in the registry module, so that a registry client user needs no snapshotter. Thread-safe if the
 * image service is.
 */
public final class SnapshotUnpacker implements PullUnpacker {
    private final ImageService images;
    private final Snapshotter snapshotter;

    public SnapshotUnpacker(ImageService images, Snapshotter snapshotter) {
        this.images = Objects.requireNonNull(images, "images");
        this.snapshotter = Objects.requireNonNull(snapshotter, "snapshotter");
    }

    @Override
    public void unpack(String name, Descriptor manifest, LayerGate layers, Consumer<Descriptor> layerUnpacked) {
        ResolvedImage resolved = images.resolve(manifest, PlatformMatcher.all());
        images.unpack(resolved, snapshotter, layers);
        resolved.layers().forEach(layerUnpacked);
    }
}
