package dev.berth;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/** A namespace: its name, labels and when it was created and last changed. */
public record NamespaceInfo(String name, Map<String, String> labels, Instant createdAt, Instant updatedAt) {
    public NamespaceInfo {
        Objects.requireNonNull(name, "name");
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }
}
