package dev.berth.api.content;

import dev.berth.api.Digest;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/** A committed blob: digest, size, creation and update times, labels. */
public record Info(Digest digest, long size, Instant createdAt, Instant updatedAt, Map<String, String> labels) {
    public Info {
        Objects.requireNonNull(digest, "digest");
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    public Info withLabels(Map<String, String> newLabels) {
        return new Info(digest, size, createdAt, updatedAt, newLabels);
    }
}
