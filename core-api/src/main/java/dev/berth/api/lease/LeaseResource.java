package dev.berth.api.lease;

import java.util.Objects;

/**
 * Something a lease holds: {@code type} is {@code content} (id = digest), {@code ingests} (id = ref) or
 * {@code snapshots/<snapshotter>} (id = key).
 */
public record LeaseResource(String id, String type) {
    public LeaseResource {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(type, "type");
    }

    public static LeaseResource content(dev.berth.api.Digest digest) {
        return new LeaseResource(digest.toString(), "content");
    }

    public static LeaseResource snapshot(String snapshotter, String key) {
        return new LeaseResource(key, "snapshots/" + snapshotter);
    }

    public static LeaseResource ingest(String ref) {
        return new LeaseResource(ref, "ingests");
    }
}
