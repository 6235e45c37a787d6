package dev.berth.api;

/** Normalization, parsing and matcher implementations behind {@link Platform} and {@link PlatformMatcher}. */
final class PlatformSupport {
    private PlatformSupport() {
    }

    static Platform parse(String specifier) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    static Platform host() {
        throw new UnsupportedOperationException("not yet implemented");
    }

    static Platform normalize(Platform p) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    static PlatformMatcher only(Platform p) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    static PlatformMatcher onlyStrict(Platform p) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    static PlatformMatcher any(Platform... ps) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    static PlatformMatcher all() {
        throw new UnsupportedOperationException("not yet implemented");
    }
}
