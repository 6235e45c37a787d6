package dev.berth.api;

import java.util.Comparator;
import java.util.List;

/**
 * Decides which platforms an image may be run as and which of several candidates is best, with
 * containerd's semantics:
 * <ul>
 *   <li>{@link #only(Platform)}: the platform and what it can run, in order of preference
 *       (amd64/v3 → v2 → v1 → 386; arm64 → arm/v8 … arm/v5; arm/v7 → v6 → v5);</li>
 *   <li>{@link #onlyStrict(Platform)}: exactly the (normalized) platform;</li>
 *   <li>{@link #any(Platform...)}: any of the given, preferring earlier ones; {@link #all()}: anything.</li>
 * </ul>
 * Implementations are immutable and thread-safe.
 */
public interface PlatformMatcher extends Comparator<Platform> {

    /** Whether an image for {@code platform} can run here. */
    boolean matches(Platform platform);

    /**
     * Orders candidates best first: a platform this matcher prefers compares less. Platforms that do
     * not match sort last.
     */
    @Override
    int compare(Platform a, Platform b);

    /** The best matching platform among {@code candidates}, or empty. */
    default java.util.Optional<Platform> best(List<Platform> candidates) {
        return candidates.stream().filter(this::matches).min(this);
    }

    static PlatformMatcher only(Platform platform) {
        return PlatformSupport.only(platform);
    }

    static PlatformMatcher onlyStrict(Platform platform) {
        return PlatformSupport.onlyStrict(platform);
    }

    static PlatformMatcher any(Platform... platforms) {
        return PlatformSupport.any(platforms);
    }

    static PlatformMatcher all() {
        return PlatformSupport.all();
    }

    /** {@code only(Platform.host())}: what containerd uses by default. */
    static PlatformMatcher host() {
        return only(Platform.host());
    }
}
