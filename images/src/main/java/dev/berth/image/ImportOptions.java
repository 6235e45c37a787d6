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
 * @param unpack    whether {@link ImageService#importArchive} also unpacks every imported image (as
 *                  {@code ctr images import} does by default), applying layers while they are stored
 * @param snapshotter the snapshotter to unpack into; null = the service's default
 */
public record ImportOptions(PlatformMatcher platforms, String baseName, boolean unpack, String snapshotter) {
    public ImportOptions(PlatformMatcher platforms, String baseName) {
        this(platforms, baseName, false, null);
    }

    /** The service's platforms, no base name, no unpack. */
    public static ImportOptions defaults() {
        return new ImportOptions(null, null);
    }

    /** Requires (and labels) the manifests of every platform present. */
    public ImportOptions allPlatforms() {
        return new ImportOptions(PlatformMatcher.all(), baseName, unpack, snapshotter);
    }

    public ImportOptions withPlatforms(PlatformMatcher matcher) {
        return new ImportOptions(Objects.requireNonNull(matcher, "platforms"), baseName, unpack, snapshotter);
    }

    public ImportOptions withBaseName(String name) {
        ImageReference.parse(Objects.requireNonNull(name, "baseName"));
        return new ImportOptions(platforms, name, unpack, snapshotter);
    }

    /** Unpacks the imported images into the service's default snapshotter. */
    public ImportOptions withUnpack() {
        return new ImportOptions(platforms, baseName, true, null);
    }

    /** Unpacks the imported images into the snapshotter registered as {@code name}. */
    public ImportOptions withUnpack(String name) {
        return new ImportOptions(platforms, baseName, true, Objects.requireNonNull(name, "snapshotter"));
    }
}
