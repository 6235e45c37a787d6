package dev.berth.image;

import dev.berth.api.PlatformMatcher;
import java.util.List;
import java.util.Objects;

/**
 * What {@link ImageService#export} writes.
 *
 * @param names                 the images to export (at least one), by the names in the image store
 * @param platforms             which manifests of multi-platform images to include; index blobs are
 *                              always written whole. Null = the service's platform matcher.
 * @param dockerManifest        whether to add a Docker {@code manifest.json} (so {@code docker load}
 *                              accepts the archive); on by default, like containerd
 */
public record ExportOptions(List<String> names, PlatformMatcher platforms, boolean dockerManifest) {
    public ExportOptions {
        names = List.copyOf(Objects.requireNonNull(names, "names"));
        if (names.isEmpty()) {
            throw new dev.berth.api.InvalidArgumentException("export needs at least one image name");
        }
    }

    /** Exports {@code names} for the service's platforms with a Docker manifest.json. */
    public static ExportOptions of(String... names) {
        return new ExportOptions(List.of(names), null, true);
    }

    /** Every platform of multi-platform images. */
    public ExportOptions allPlatforms() {
        return new ExportOptions(names, PlatformMatcher.all(), dockerManifest);
    }

    public ExportOptions withPlatforms(PlatformMatcher matcher) {
        return new ExportOptions(names, Objects.requireNonNull(matcher, "platforms"), dockerManifest);
    }

    public ExportOptions withoutDockerManifest() {
        return new ExportOptions(names, platforms, false);
    }
}
