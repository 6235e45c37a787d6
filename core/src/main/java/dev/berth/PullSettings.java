package dev.berth;

import dev.berth.api.PlatformMatcher;
import java.util.Objects;

/**
 * How {@link Namespace#pull} fetches an image.
 *
 * @param registry  how registries are reached
 * @param platforms which platforms to pull and unpack; null = the root's platforms
 */
public record PullSettings(RegistryAccess registry, PlatformMatcher platforms) {

    public PullSettings {
        Objects.requireNonNull(registry, "registry");
    }

    /** HTTPS, the root's platforms, no hosts directory. */
    public static PullSettings defaults() {
        return new PullSettings(RegistryAccess.defaults(), null);
    }

    /** The root's platforms from registries reached through {@code registry}. */
    public static PullSettings of(RegistryAccess registry) {
        return new PullSettings(registry, null);
    }

    public PullSettings withRegistry(RegistryAccess access) {
        return new PullSettings(access, platforms);
    }

    public PullSettings withPlatforms(PlatformMatcher matcher) {
        return new PullSettings(registry, matcher);
    }
}
