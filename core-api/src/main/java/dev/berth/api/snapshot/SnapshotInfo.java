package dev.berth.api.snapshot;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/** A snapshot as {@link Snapshotter#stat} reports it; {@code parent} is null for a base snapshot. */
public record SnapshotInfo(String name, String parent, Kind kind, Map<String, String> labels,
                           Instant created, Instant updated) {
    public SnapshotInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    public SnapshotInfo withLabels(Map<String, String> newLabels) {
        return new SnapshotInfo(name, parent, kind, newLabels, created, updated);
    }
}
