package dev.berth.registry;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.NotFoundException;
import dev.berth.api.content.ContentStore;
import dev.berth.content.Content;
import dev.berth.content.LocalContentStore;
import dev.berth.testing.Busybox;
import dev.berth.testing.ImageContent;
import dev.berth.testing.LayerBuilder;
import dev.berth.testing.TestImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/** Test images and helpers shared by the registry tests. */
final class Fixtures {
    private static TestImage twoLayer;

    private Fixtures() {
    }

    /**
     * Busybox plus a second layer holding 3 MiB of incompressible bytes, so a blob transfer takes many
     * reads and can be cut in the middle.
     */
    static synchronized TestImage twoLayerImage() {
        if (twoLayer == null) {
            byte[] noise = new byte[3 << 20];
            new Random(42).nextBytes(noise);
            twoLayer = Busybox.imageBuilder(Busybox.layer(Compression.GZIP))
                    .layer(LayerBuilder.create().file("data/noise.bin", noise).build(Compression.GZIP))
                    .build();
        }
        return twoLayer;
    }

    /** The largest layer of {@code image}. */
    static Descriptor bigLayer(TestImage image) {
        return image.layerDescriptors().stream().max(java.util.Comparator.comparingLong(Descriptor::size))
                .orElseThrow();
    }

    static LocalContentStore store(Path dir) {
        return LocalContentStore.open(dir);
    }

    /** Writes every blob of {@code content} into {@code store}. */
    static void load(ContentStore store, ImageContent content) {
        for (Map.Entry<Digest, byte[]> e : content.blobs().entrySet()) {
            byte[] bytes = e.getValue();
            Content.copy(store, "load-" + e.getKey(), offset -> new ByteArrayInputStream(bytes, (int) offset,
                    bytes.length - (int) offset), new Descriptor("application/octet-stream", e.getKey(),
                    bytes.length));
        }
    }

    static boolean has(ContentStore store, Digest digest) {
        try {
            store.info(digest);
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    static long totalSize(ImageContent content) {
        return content.blobs().values().stream().mapToLong(b -> b.length).sum();
    }

    static RegistryClient.Builder client(ContentStore store) {
        return RegistryClient.builder(store).credentials(Credentials.none()).retryBackoff(java.time.Duration
                .ofMillis(20));
    }
}
