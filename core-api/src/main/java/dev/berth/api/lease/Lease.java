package dev.berth.api.lease;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/** A lease: while it exists (and has not expired), everything it holds survives garbage collection. */
public record Lease(String id, Instant createdAt, Map<String, String> labels) {
    public Lease {
        Objects.requireNonNull(id, "id");
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }
}
