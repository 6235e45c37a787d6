package dev.berth.registry;

import dev.berth.api.Descriptor;
import java.util.List;
import java.util.Objects;

/**
 * What a pull stored.
 *
 * @param name the normalized reference ({@code docker.io/library/busybox:latest}); record it in the
 *        image store with {@code target}
 * @param target the descriptor the reference resolved to (index or manifest)
 * @param manifests the platform manifests fetched (with their platform when they came from an index)
 * @param bytesFetched bytes downloaded by this pull (blobs already stored and resumed bytes excluded)
 */
public record PullResult(String name, Descriptor target, List<Descriptor> manifests, long bytesFetched) {
    public PullResult {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(target, "target");
        manifests = List.copyOf(manifests);
    }
}
