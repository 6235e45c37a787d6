package dev.berth.api.image;

import dev.berth.api.Descriptor;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A named image: a name such as {@code docker.io/library/busybox:latest} pointing at the descriptor of
 * an index or manifest in the content store.
 */
public record Image(String name, Descriptor target, Map<String, String> labels, Instant createdAt, Instant updatedAt) {
    public Image {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(target, "target");
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    public Image(String name, Descriptor target) {
        this(name, target, Map.of(), null, null);
    }
}
