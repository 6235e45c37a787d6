package dev.berth.testing;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.Platform;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A single-platform image built by {@link TestImageBuilder}: its manifest, config and layers. Tests
 * assert against these values (digests are computed over the exact bytes). The arrays are shared,
 * do not modify them.
 *
 * @param platform         the platform in the config (and in index entries pointing here)
 * @param descriptor       the manifest's descriptor
 * @param bytes            the manifest JSON
 * @param config           the config's descriptor
 * @param configBytes      the config JSON
 * @param layers           the layers, lowest first
 * @param layerDescriptors the layer descriptors as written in the manifest
 * @param diffIds          the config's {@code rootfs.diff_ids}
 */
public record TestImage(Platform platform, Descriptor descriptor, byte[] bytes, Descriptor config,
                        byte[] configBytes, List<TestLayer> layers, List<Descriptor> layerDescriptors,
                        List<Digest> diffIds) implements ImageContent {
    public TestImage {
        layers = List.copyOf(layers);
        layerDescriptors = List.copyOf(layerDescriptors);
        diffIds = List.copyOf(diffIds);
    }

    @Override
    public Map<Digest, byte[]> blobs() {
        Map<Digest, byte[]> blobs = new LinkedHashMap<>();
        blobs.put(config.digest(), configBytes);
        for (TestLayer layer : layers) {
            blobs.put(layer.digest(), layer.blob());
        }
        blobs.put(descriptor.digest(), bytes);
        return Collections.unmodifiableMap(blobs);
    }

    /**
     * The chain IDs of the layers: {@code chain[0] = diffId[0]},
     * {@code chain[i] = sha256(chain[i-1] + " " + diffId[i])}; the last one names the unpacked snapshot.
     */
    public List<Digest> chainIds() {
        List<Digest> chain = new ArrayList<>();
        Digest previous = null;
        for (Digest diffId : diffIds) {
            previous = previous == null ? diffId
                    : Digest.sha256((previous + " " + diffId).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            chain.add(previous);
        }
        return List.copyOf(chain);
    }

    @Override
    public String toString() {
        return "TestImage[" + platform + " manifest=" + descriptor.digest() + " config=" + config.digest()
                + " layers=" + layers.size() + "]";
    }
}
