package dev.berth.snapshot.archive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Mount;
import dev.berth.snapshot.archive.internal.EntryApplier;
import dev.berth.snapshot.archive.internal.LayerStream;
import dev.berth.snapshot.archive.internal.LayerTarInputStream;
import dev.berth.snapshot.archive.internal.MergedTree;
import dev.berth.sys.ErrnoException;

/**
 * Applies an OCI image layer (a tar changeset, uncompressed, gzip or zstd — detected from the first
 * bytes) to a snapshot so that the result equals the layer applied onto the merged view of all lower
 * layers, as the OCI image-spec's changeset model defines it:
 * <ul>
 *   <li>entries replace what is at their path, except that a directory over a directory merges
 *       (the entry's metadata wins); later duplicates win;</li>
 *   <li>{@code .wh.<name>} removes {@code name} as the lower layers had it, {@code .wh..wh..opq} hides
 *       all lower children of its directory — both regardless of entry order, and never touching what
 *       this layer itself writes; a whiteout of a path that does not exist creates nothing; whiteout
 *       files never materialize;</li>
 *   <li>every path (entry names, hardlink targets, whiteouts) is resolved inside the target as if it
 *       were {@code /}, following symlinks of lower layers and of this layer within that root: nothing
 *       outside the target is ever created, modified, linked or removed;</li>
 *   <li>hardlinks may point into this layer or to files of lower layers (copied up on overlay); a link
 *       to a directory, to a missing path, or before its target is an {@link InvalidLayerException};</li>
 *   <li>numeric uid/gid (names are ignored), permission bits including setuid/setgid/sticky (applied
 *       after the owner), nanosecond atime/mtime (also of symlinks; directories' times are set last),
 *       PAX {@code SCHILY.xattr.*} byte-exact, device nodes and fifos, GNU long names, PAX paths and
 *       sparse files. {@code trusted.overlay.*} and {@code user.overlay.*} xattrs in a layer are
 *       ignored: a layer must not forge overlay whiteouts, opaque directories, redirects or metacopy
 *       files (other {@code trusted.*}, {@code security.*}, {@code system.posix_acl_*} and
 *       {@code user.*} xattrs are set, as containerd sets them). Times before 1970 are kept; times
 *       beyond what the file system stores are clamped by the kernel.</li>
 * </ul>
 *
 * <p><b>Unusual and hostile layers.</b> The entries are the ones Go's {@code archive/tar} (containerd,
 * Docker and most image scanners) sees in the same bytes, so a layer cannot show Berth other content
 * than it shows them: link, symlink, device, fifo and directory entries carry no content whatever
 * their size field says; a {@code '0'} entry named {@code "x/"} is file {@code x}; global PAX headers
 * and libarchive's {@code LIBARCHIVE.xattr.*} records are ignored. Where the two readers would differ
 * (two PAX or two GNU long-name headers for one entry, a GNU long name and a PAX path together, a PAX
 * size on a content-less entry, a sparse map out of order) the layer is rejected. Also rejected, with
 * an {@link InvalidLayerException} naming the entry: names and link targets that are not UTF-8 (Go
 * would keep their bytes; Berth cannot reproduce them and will not rename them), NUL bytes in names,
 * link targets and xattr names, name components over 255 bytes, symlink targets over 4095 bytes or empty, whiteout names that
 * are not names ({@code .wh.}, {@code .wh..}, {@code .wh...}), entries below a {@code .wh.<name>}
 * directory, uids/gids beyond 2^32-2, entry types containerd does not handle. Skipped, as Docker
 * does: AUFS metadata ({@code .wh..wh.*}) with everything below it. A character device 0/0 is
 * overlayfs' whiteout, so it is applied as a whiteout of its path in both modes (on overlay it could
 * not mean anything else, and both modes must give the same view). A gzip stream may have several
 * members; bytes after the last one are an error, as in Go's reader.
 *
 * <p>On an {@linkplain ApplyTarget.Overlay overlay} target the layer is written into the upper
 * directory in overlayfs' format (whiteouts as character devices 0/0 owned like the whiteout entry,
 * opaque directories with the {@code overlay.opaque=y} xattr), consulting the lower directories for
 * what the merged view holds. The upper directory is expected to be the fresh, empty upper directory
 * of an active snapshot.
 *
 * <p><b>Failure.</b> A corrupt or truncated stream, an invalid entry, or an exceeded limit throws (see
 * {@link #apply}). The target is then left half-applied: removing the active snapshot is the caller's
 * job. Nothing outside the target is touched in any case.
 *
 * <p>Instances are immutable and thread-safe; concurrent applies must use different targets. The apply
 * runs in the calling thread and reads the stream to its end (the diffID covers every byte).
 */
public final class LayerApplier {
    /** The default cap on a layer's uncompressed size: 64 GiB, far above real layers. */
    public static final long DEFAULT_MAX_UNCOMPRESSED_SIZE = 64L << 30;
    /**
     * The default cap on uncompressed/compressed bytes: 1000, near gzip's ceiling (about 1030:1 for a run
     * of one byte), so only a layer that is almost entirely one repeated byte reaches it.
     */
    public static final double DEFAULT_MAX_COMPRESSION_RATIO = 1000;
    /** The default ratio is judged only past this many uncompressed bytes (64 MiB): small layers never trip it. */
    public static final long DEFAULT_RATIO_JUDGED_AFTER = 64L << 20;
    private static final long RATIO_JUDGED_AFTER = 1L << 20;

    private final long maxUncompressedSize;
    private final double maxCompressionRatio;
    private final long ratioJudgedAfter;
    private final DeviceNodes deviceNodes;

    /** What to do with character and block device entries. */
    public enum DeviceNodes {
        /** Create them, except inside a user namespace (where mknod is not permitted), like containerd. */
        AUTO,
        /** Always create them. */
        CREATE,
        /** Never create them (fifos are still created). */
        SKIP
    }

    private LayerApplier(Builder b) {
        this.maxUncompressedSize = b.maxUncompressedSize;
        this.maxCompressionRatio = b.maxCompressionRatio;
        this.ratioJudgedAfter = b.ratioJudgedAfter;
        this.deviceNodes = b.deviceNodes;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The uncompressed size limit in bytes, 0 for none. */
    public long maxUncompressedSize() {
        return maxUncompressedSize;
    }

    /** The uncompressed/compressed ratio limit, 0 for none. */
    public double maxCompressionRatio() {
        return maxCompressionRatio;
    }

    /** How many uncompressed bytes pass before the ratio is judged. */
    public long compressionRatioJudgedAfter() {
        return ratioJudgedAfter;
    }

    /**
     * Checks the limits for a layer decompressed elsewhere: {@code uncompressed} bytes so far from
     * {@code compressed} compressed bytes (0 if the layer is not compressed).
     *
     * @throws LayerLimitExceededException if a limit is exceeded
     */
    public void checkLimits(long uncompressed, long compressed) {
        if (maxUncompressedSize > 0 && uncompressed > maxUncompressedSize) {
            throw new LayerLimitExceededException("layer exceeds the uncompressed size limit of "
                    + maxUncompressedSize + " bytes");
        }
        if (maxCompressionRatio > 0 && compressed > 0 && uncompressed > ratioJudgedAfter
                && uncompressed > maxCompressionRatio * compressed) {
            throw new LayerLimitExceededException("layer exceeds the compression ratio limit of "
                    + maxCompressionRatio + " (" + uncompressed + " bytes from " + compressed + " compressed bytes)");
        }
    }

    /**
     * An applier with the default limits ({@link #DEFAULT_MAX_UNCOMPRESSED_SIZE},
     * {@link #DEFAULT_MAX_COMPRESSION_RATIO} past {@link #DEFAULT_RATIO_JUDGED_AFTER}).
     */
    public static LayerApplier create() {
        return builder().build();
    }

    /**
     * Applies {@code layer} to {@code target}. Reads {@code layer} to its end; does not close it.
     *
     * @return the diffID (sha256 of the uncompressed stream) and sizes
     * @throws InvalidLayerException       the stream is corrupt or truncated, or an entry cannot be
     *                                     applied (the exception names the entry and offset)
     * @throws LayerLimitExceededException a configured size or ratio limit was exceeded
     * @throws IOException                 reading {@code layer} failed, or a file system operation on
     *                                     the target failed (a {@link java.nio.file.FileSystemException}
     *                                     naming the call, errno and path)
     */
    public ApplyResult apply(InputStream layer, ApplyTarget target) throws IOException {
        Objects.requireNonNull(layer, "layer");
        Objects.requireNonNull(target, "target");
        checkTarget(target);
        LayerStream stream = LayerStream.open(layer, maxUncompressedSize, maxCompressionRatio, ratioJudgedAfter);
        String entryName = null;
        long offset = 0;
        long entries = 0;
        try (MergedTree tree = MergedTree.open(target)) {
            EntryApplier applier = new EntryApplier(tree, skipDevices());
            LayerTarInputStream tar = new LayerTarInputStream(stream.uncompressed());
            while (true) {
                offset = stream.uncompressedCount();
                entryName = null;
                TarArchiveEntry e = tar.getNextEntry();
                if (e == null) {
                    break;
                }
                entryName = e.getName();
                applier.apply(e, tar.typeflag(), tar.xattrs(), tar);
                while (tar.available() > 0 && tar.skip(Long.MAX_VALUE) > 0) {
                    // unread content: holes after a sparse file's last extent, data of links or devices
                }
                entries++;
            }
            entryName = null;
            offset = stream.uncompressedCount();
            if (!tar.sawEndMarker() && offset % 512 != 0) {
                throw new InvalidLayerException("truncated tar header", null, offset);
            }
            stream.drain();
            applier.finish();
        } catch (ErrnoException e) {
            throw entryName == null ? e : e.withContext(e.getFile(), "while applying entry \""
                    + (entryName.length() > 300 ? entryName.substring(0, 300) + "..." : entryName) + "\"");
        } catch (EntryApplier.EntryException | MergedTree.PathException | LayerTarInputStream.TarFormatException e) {
            throw new InvalidLayerException(e.getMessage(), entryName, offset, e);
        } catch (IOException e) {
            if (stream.isSourceFailure(e)) {
                throw stream.sourceFailure();
            }
            throw new InvalidLayerException("corrupt or truncated layer: " + e.getMessage(), entryName,
                    stream.uncompressedCount(), e);
        } catch (IllegalArgumentException e) {
            // commons-compress reports some malformed header fields this way
            throw new InvalidLayerException("malformed tar header: " + e.getMessage(), entryName, offset, e);
        } finally {
            stream.close();
        }
        return new ApplyResult(stream.diffId(), stream.uncompressedCount(), stream.compressedCount(),
                stream.compression(), entries);
    }

    /**
     * Applies {@code layer} to the snapshot described by {@code mounts}, as a snapshotter's
     * {@code prepare} returned them (see {@link ApplyTarget#fromMounts}).
     */
    public ApplyResult apply(InputStream layer, List<Mount> mounts) throws IOException {
        return apply(layer, ApplyTarget.fromMounts(mounts));
    }

    private static void checkTarget(ApplyTarget target) {
        if (target instanceof ApplyTarget.Naive n) {
            requireDirectory(n.directory(), "target");
        } else if (target instanceof ApplyTarget.Overlay o) {
            requireDirectory(o.upperDir(), "upperdir");
            for (Path l : o.lowerDirs()) {
                requireDirectory(l, "lowerdir");
            }
        }
    }

    private static void requireDirectory(Path p, String what) {
        if (!Files.isDirectory(p)) {
            throw new InvalidArgumentException(what + " " + p + " is not a directory");
        }
    }

    private boolean skipDevices() {
        return switch (deviceNodes) {
            case CREATE -> false;
            case SKIP -> true;
            case AUTO -> UserNamespace.inUserNamespace();
        };
    }

    /** Builder of {@link LayerApplier}; validates each option as it is set. */
    public static final class Builder {
        private long maxUncompressedSize = DEFAULT_MAX_UNCOMPRESSED_SIZE;
        private double maxCompressionRatio = DEFAULT_MAX_COMPRESSION_RATIO;
        private long ratioJudgedAfter = DEFAULT_RATIO_JUDGED_AFTER;
        private DeviceNodes deviceNodes = DeviceNodes.AUTO;

        private Builder() {
        }

        /** Fails the apply once the uncompressed stream exceeds {@code bytes} (default {@link #DEFAULT_MAX_UNCOMPRESSED_SIZE}). */
        public Builder maxUncompressedSize(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("maxUncompressedSize must be positive, got " + bytes);
            }
            this.maxUncompressedSize = bytes;
            return this;
        }

        /**
         * Fails the apply once uncompressed bytes exceed {@code ratio} times the compressed bytes read
         * (judged after the first MiB; default {@link #DEFAULT_MAX_COMPRESSION_RATIO} past
         * {@link #DEFAULT_RATIO_JUDGED_AFTER}). Guards against decompression bombs.
         */
        public Builder maxCompressionRatio(double ratio) {
            return maxCompressionRatio(ratio, RATIO_JUDGED_AFTER);
        }

        /** As {@link #maxCompressionRatio(double)}, judged only once {@code judgedAfter} bytes were uncompressed. */
        public Builder maxCompressionRatio(double ratio, long judgedAfter) {
            if (!(ratio >= 1)) {
                throw new IllegalArgumentException("maxCompressionRatio must be at least 1, got " + ratio);
            }
            if (judgedAfter < 0) {
                throw new IllegalArgumentException("maxCompressionRatio judgedAfter must not be negative, got "
                        + judgedAfter);
            }
            this.maxCompressionRatio = ratio;
            this.ratioJudgedAfter = judgedAfter;
            return this;
        }

        /** No size or ratio limit: for layers from a trusted source only. */
        public Builder unlimited() {
            this.maxUncompressedSize = 0;
            this.maxCompressionRatio = 0;
            return this;
        }

        /** How character and block devices are handled (default {@link DeviceNodes#AUTO}). */
        public Builder deviceNodes(DeviceNodes mode) {
            this.deviceNodes = Objects.requireNonNull(mode, "deviceNodes");
            return this;
        }

        public LayerApplier build() {
            return new LayerApplier(this);
        }
    }
}
