package dev.berth.image;

import dev.berth.api.PlatformMatcher;
import dev.berth.api.image.ImageReference;
import java.util.Objects;

/**
 * How {@link ImageService#importArchive} treats an archive.
 *
 * @param platforms which manifests of a multi-platform image must be complete in the archive and get
 *                  GC labels; entries for other platforms may be absent (as in an archive exported for
 *                  one platform). Null = the service's platform matcher.
 * @param baseName  for OCI layouts whose entries carry only a tag in
 *                  {@code org.opencontainers.image.ref.name} (such as {@code latest}): the repository
 *                  the tag is appended to ({@code baseName:tag}). Null = {@code import-<yyyy-MM-dd>},
 *                  as {@code ctr images import} does.
 */
public record ImportOptions(PlatformMatcher platforms, String baseName) {
    /** The service's platforms, no base name. */
    public static ImportOptions defaults() {
        return new ImportOptions(null, null);
    }

    /** Requires (and labels) the manifests of every platform present. */
    public ImportOptions allPlatforms() {
        return new ImportOptions(PlatformMatcher.all(), baseName);
    }

    public ImportOptions withPlatforms(PlatformMatcher matcher) {
        return new ImportOptions(Objects.requireNonNull(matcher, "platforms"), baseName);
    }

    public ImportOptions withBaseName(String name) {
        ImageReference.parse(Objects.requireNonNull(name, "baseName"));
        return new ImportOptions(platforms, name);
    }
}
