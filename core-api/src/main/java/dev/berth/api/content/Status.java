package dev.berth.api.content;

import dev.berth.api.Digest;
import java.time.Instant;
import java.util.Objects;

/**
 * An ingest in progress: {@code offset} bytes written so far of {@code total} (0 = unknown);
 * {@code expected} may be null.
 */
public record Status(String ref, long offset, long total, Digest expected, Instant startedAt, Instant updatedAt) {
    public Status {
        Objects.requireNonNull(ref, "ref");
    }
}
