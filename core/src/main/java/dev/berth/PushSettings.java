package dev.berth;

import dev.berth.api.PlatformMatcher;
import java.util.Objects;

/**
 * How {@link Namespace#push} sends an image.
 *
 * @param registry  how registries are reached
 * @param platforms which platforms of a multi-platform image to push; null = all it has
 */
public record PushSettings(RegistryAccess registry, PlatformMatcher platforms) {

    public PushSettings {
        Objects.requireNonNull(registry, "registry");
    }

    /** HTTPS, every platform, no hosts directory. */
    public static PushSettings defaults() {
        return new PushSettings(RegistryAccess.defaults(), null);
    }

    /** Every platform, to registries reached through {@code registry}. */
    public static PushSettings of(RegistryAccess registry) {
        return new PushSettings(registry, null);
    }

    public PushSettings withRegistry(RegistryAccess access) {
        return new PushSettings(access, platforms);
    }

    public PushSettings withPlatforms(PlatformMatcher matcher) {
        return new PushSettings(registry, matcher);
    }
}
