package dev.berth.registry;

import dev.berth.api.Descriptor;
import java.util.Objects;

/**
 * A reference resolved against a registry.
 *
 * @param name the normalized reference, e.g. {@code docker.io/library/busybox:latest}
 * @param target the descriptor of the index or manifest it points at (media type, digest, size)
 */
public record Resolved(String name, Descriptor target) {
    public Resolved {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(target, "target");
    }
}
