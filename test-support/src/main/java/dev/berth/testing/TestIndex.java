package dev.berth.testing;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An image index (or Docker manifest list) built by {@link IndexBuilder}.
 *
 * @param descriptor the index's descriptor
 * @param bytes      the index JSON
 * @param manifests  the entries of its {@code manifests} array, as written (with platform/annotations)
 * @param children   the content behind those entries that was built along (references added with
 *                   {@link IndexBuilder#reference} have none)
 */
public record TestIndex(Descriptor descriptor, byte[] bytes, List<Descriptor> manifests,
                        List<ImageContent> children) implements ImageContent {
    public TestIndex {
        manifests = List.copyOf(manifests);
        children = List.copyOf(children);
    }

    @Override
    public Map<Digest, byte[]> blobs() {
        Map<Digest, byte[]> blobs = new LinkedHashMap<>();
        for (ImageContent child : children) {
            blobs.putAll(child.blobs());
        }
        blobs.put(descriptor.digest(), bytes);
        return Collections.unmodifiableMap(blobs);
    }

    /** The single-platform images below this index, depth first (nested indexes included). */
    public List<TestImage> images() {
        List<TestImage> images = new java.util.ArrayList<>();
        for (ImageContent child : children) {
            if (child instanceof TestImage image) {
                images.add(image);
            } else if (child instanceof TestIndex index) {
                images.addAll(index.images());
            }
        }
        return List.copyOf(images);
    }

    @Override
    public String toString() {
        return "TestIndex[" + descriptor.mediaType() + " " + descriptor.digest() + " manifests="
                + manifests.size() + "]";
    }
}
