package dev.berth.testing;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.MediaTypes;
import dev.berth.testing.internal.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Builds an image index (multi-platform image) or, with {@link #dockerManifestList()}, a Docker
 * manifest list. Entries for a {@link TestImage} carry its platform; entries may be nested indexes.
 *
 * <pre>{@code
 * TestIndex index = IndexBuilder.create()
 *         .manifest(amd64Image)
 *         .manifest(arm64Image)
 *         .build();
 * }</pre>
 * Not thread-safe.
 */
public final class IndexBuilder {
    private final List<Descriptor> manifests = new ArrayList<>();
    private final List<ImageContent> children = new ArrayList<>();
    private final Map<String, String> annotations = new LinkedHashMap<>();
    private boolean docker;

    private IndexBuilder() {
    }

    public static IndexBuilder create() {
        return new IndexBuilder();
    }

    /** Adds an entry for {@code content}; an image's entry gets its platform. */
    public IndexBuilder manifest(ImageContent content) {
        return manifest(content, Map.of());
    }

    /** Adds an entry for {@code content} with annotations on the entry. */
    public IndexBuilder manifest(ImageContent content, Map<String, String> entryAnnotations) {
        Objects.requireNonNull(content, "content");
        Descriptor d = content.descriptor().withAnnotations(entryAnnotations);
        if (content instanceof TestImage image) {
            d = d.withPlatform(image.platform());
        }
        manifests.add(d);
        children.add(content);
        return this;
    }

    /**
     * Adds an entry whose blob is not built along (it will be missing from layouts written from this
     * index), e.g. to test how a missing platform manifest is handled.
     */
    public IndexBuilder reference(Descriptor descriptor) {
        manifests.add(Objects.requireNonNull(descriptor, "descriptor"));
        return this;
    }

    /** Adds an index annotation. */
    public IndexBuilder annotation(String key, String value) {
        annotations.put(key, value);
        return this;
    }

    /** Uses the Docker manifest list media type instead of the OCI index type. */
    public IndexBuilder dockerManifestList() {
        this.docker = true;
        return this;
    }

    public TestIndex build() {
        String type = docker ? MediaTypes.DOCKER_MANIFEST_LIST : MediaTypes.OCI_INDEX;
        ObjectNode index = Json.object();
        index.put("schemaVersion", 2);
        index.put("mediaType", type);
        ArrayNode array = index.putArray("manifests");
        manifests.forEach(d -> array.add(Json.descriptor(d)));
        if (!annotations.isEmpty()) {
            index.set("annotations", Json.sortedMap(annotations));
        }
        byte[] bytes = Json.bytes(index);
        return new TestIndex(new Descriptor(type, Digest.sha256(bytes), bytes.length), bytes, manifests, children);
    }
}
