package dev.berth.api;

import java.util.Objects;

/**
 * An OCI platform: {@code os}, {@code architecture}, optional {@code variant} (e.g. {@code v7}),
 * {@code osVersion} and {@code osFeatures}. Values are kept as given; {@link #normalize()} applies
 * containerd's normalization ({@code x86_64} → {@code amd64}, {@code aarch64} → {@code arm64},
 * {@code armhf} → {@code arm/v7}, ...), which matching always uses.
 */
public record Platform(String os, String architecture, String variant, String osVersion,
                       java.util.List<String> osFeatures) {
    public Platform {
        Objects.requireNonNull(os, "os");
        Objects.requireNonNull(architecture, "architecture");
        variant = variant == null ? "" : variant;
        osVersion = osVersion == null ? "" : osVersion;
        osFeatures = osFeatures == null ? java.util.List.of() : java.util.List.copyOf(osFeatures);
    }

    public Platform(String os, String architecture, String variant) {
        this(os, architecture, variant, "", java.util.List.of());
    }

    public Platform(String os, String architecture) {
        this(os, architecture, "");
    }

    /**
     * Parses {@code os[/arch[/variant]]} or {@code arch[/variant]} like containerd's
     * {@code platforms.Parse}; the result is normalized. An os-less specifier gets the host's os.
     */
    public static Platform parse(String specifier) {
        return PlatformSupport.parse(specifier);
    }

    /** The platform this JVM runs on, normalized (variant read from /proc/cpuinfo on ARM). */
    public static Platform host() {
        return PlatformSupport.host();
    }

    /** containerd's normalization of os, architecture and variant. */
    public Platform normalize() {
        return PlatformSupport.normalize(this);
    }

    /** {@code os/arch[/variant]}. */
    @Override
    public String toString() {
        return variant.isEmpty() ? os + "/" + architecture : os + "/" + architecture + "/" + variant;
    }
}
