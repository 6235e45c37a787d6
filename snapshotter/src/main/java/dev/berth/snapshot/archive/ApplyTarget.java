package dev.berth.snapshot.archive;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Mount;

/**
 * Where a layer is applied: a directory that already holds the merged content of all lower layers
 * ({@link Naive}, what the native snapshotter prepares by copying its parent), or the upper directory
 * of an overlay snapshot together with its lower directories ({@link Overlay}).
 */
public sealed interface ApplyTarget permits ApplyTarget.Naive, ApplyTarget.Overlay {

    /**
     * A directory holding the full merged content of the lower layers; the layer is applied in place:
     * whiteouts delete, opaque markers delete the children not written by this layer.
     */
    record Naive(Path directory) implements ApplyTarget {
        public Naive {
            Objects.requireNonNull(directory, "directory");
        }
    }

    /**
     * The upper directory of an overlay snapshot and its lower directories, <b>nearest parent first</b>
     * (the order of overlayfs' {@code lowerdir} option). The layer is written into {@code upperDir} as
     * an overlay upper layer: deletions become whiteouts (character device 0/0), opaque directories get
     * the {@code overlay.opaque} xattr, and lookups (symlinks, hardlink targets, parent metadata) see the
     * merged view of upper and lowers. {@code userXattr} selects the {@code user.overlay.*} xattr names
     * (an overlay mounted with {@code userxattr}) instead of {@code trusted.overlay.*}.
     */
    record Overlay(Path upperDir, List<Path> lowerDirs, boolean userXattr) implements ApplyTarget {
        public Overlay {
            Objects.requireNonNull(upperDir, "upperDir");
            lowerDirs = List.copyOf(Objects.requireNonNull(lowerDirs, "lowerDirs"));
        }
    }

    static ApplyTarget naive(Path directory) {
        return new Naive(directory);
    }

    /** An overlay upper directory with its lower directories, nearest parent first. */
    static ApplyTarget overlay(Path upperDir, List<Path> lowerDirs) {
        return new Overlay(upperDir, lowerDirs, false);
    }

    /**
     * The target described by the mounts a snapshotter returned for an active snapshot: a single
     * read-write {@code bind} mount applies naively into its source; a single {@code overlay} mount
     * applies into its {@code upperdir} with its {@code lowerdir}s.
     *
     * @throws InvalidArgumentException for anything else: several mounts, a read-only bind mount, an
     *     overlay without {@code upperdir} (a view), relative paths, unknown mount types
     */
    static ApplyTarget fromMounts(List<Mount> mounts) {
        Objects.requireNonNull(mounts, "mounts");
        if (mounts.size() != 1) {
            throw new InvalidArgumentException("cannot apply a layer to " + mounts.size()
                    + " mounts: expected exactly one bind or overlay mount");
        }
        Mount m = mounts.get(0);
        if (m.type().equals("bind") || m.hasFlag("bind") || m.hasFlag("rbind")) {
            if (m.readOnly()) {
                throw new InvalidArgumentException("cannot apply a layer to a read-only bind mount of "
                        + m.source() + " (a view?)");
            }
            return new Naive(absolute(m.source(), "bind source"));
        }
        if (m.type().equals("overlay")) {
            String upper = m.option("upperdir").orElseThrow(() -> new InvalidArgumentException(
                    "cannot apply a layer to an overlay mount without upperdir (a read-only view): "
                            + m.optionString()));
            List<Path> lowers = new ArrayList<>();
            String lowerOption = m.option("lowerdir").orElse("");
            if (!lowerOption.isEmpty()) {
                for (String l : lowerOption.split(":")) {
                    lowers.add(absolute(l, "lowerdir"));
                }
            }
            return new Overlay(absolute(upper, "upperdir"), lowers, m.hasFlag("userxattr"));
        }
        throw new InvalidArgumentException("cannot apply a layer to a mount of type \"" + m.type()
                + "\": expected bind or overlay");
    }

    private static Path absolute(String path, String what) {
        Path p = Path.of(path);
        if (!p.isAbsolute()) {
            throw new InvalidArgumentException(what + " \"" + path + "\" is not an absolute path");
        }
        return p;
    }
}
