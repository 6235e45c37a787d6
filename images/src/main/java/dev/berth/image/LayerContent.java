package dev.berth.image;

import dev.berth.api.InvalidArgumentException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The files of one image layer, for {@link ImageBuilder}: files from bytes, directories copied from the
 * host, directories, symlinks and deletions (whiteouts of lower layers' paths).
 *
 * <pre>{@code
 * LayerContent layer = LayerContent.builder()
 *         .file("/app/config.yaml", "port: 8080")
 *         .file("/app/run.sh", scriptBytes, 0755)
 *         .copy(Path.of("build/classes"), "/app/classes")
 *         .delete("/etc/motd")
 *         .build();
 * }</pre>
 *
 * <p>Layers are reproducible: entries are written sorted by path, missing parent directories are added
 * (mode 0755), every entry gets the same modification time ({@link Builder#mtime}, default the epoch)
 * and owner ({@link Builder#owner}, default 0:0) unless {@link Builder#keepFileTimes()} is set for copied
 * directories. Copied directories are read when the image is built, not when the layer is defined.
 * Instances are immutable and thread-safe.
 */
public final class LayerContent {
    /** One path of the layer. Sources and bytes are read when the layer is written. */
    public sealed interface Item permits FileItem, CopyItem, DirItem, SymlinkItem, DeleteItem {
        /** The absolute path in the image, normalized ({@code /a/b}). */
        String path();
    }

    /** A regular file with the given bytes. */
    public record FileItem(String path, byte[] content, int mode) implements Item {
    }

    /** The contents of host directory (or the host file) {@code source}, placed at {@code path}. */
    public record CopyItem(String path, Path source) implements Item {
    }

    /** A directory. */
    public record DirItem(String path, int mode) implements Item {
    }

    /** A symbolic link to {@code target} (kept verbatim). */
    public record SymlinkItem(String path, String target) implements Item {
    }

    /** Deletes {@code path} of lower layers (a {@code .wh.} whiteout). */
    public record DeleteItem(String path) implements Item {
    }

    private final List<Item> items;
    private final Instant mtime;
    private final long uid;
    private final long gid;
    private final boolean keepFileTimes;

    private LayerContent(Builder b) {
        this.items = List.copyOf(b.items);
        this.mtime = b.mtime;
        this.uid = b.uid;
        this.gid = b.gid;
        this.keepFileTimes = b.keepFileTimes;
    }

    public static Builder builder() {
        return new Builder();
    }

    public List<Item> items() {
        return items;
    }

    /** The modification time of every entry (unless {@link #keepFileTimes()}). */
    public Instant mtime() {
        return mtime;
    }

    public long uid() {
        return uid;
    }

    public long gid() {
        return gid;
    }

    /** Whether entries copied from the host keep their own modification times. */
    public boolean keepFileTimes() {
        return keepFileTimes;
    }

    /** Collects the items of a layer. Not thread-safe. */
    public static final class Builder {
        private final List<Item> items = new ArrayList<>();
        private Instant mtime = Instant.EPOCH;
        private long uid;
        private long gid;
        private boolean keepFileTimes;

        private Builder() {
        }

        /** A file with mode 0644. */
        public Builder file(String path, byte[] content) {
            return file(path, content, 0644);
        }

        /** A UTF-8 text file with mode 0644. */
        public Builder file(String path, String content) {
            return file(path, content.getBytes(StandardCharsets.UTF_8), 0644);
        }

        public Builder file(String path, byte[] content, int mode) {
            items.add(new FileItem(normalize(path), Objects.requireNonNull(content, "content").clone(),
                    checkMode(mode)));
            return this;
        }

        /**
         * Copies host directory {@code source} recursively (regular files, directories and symlinks, with
         * their permission bits) to {@code path}; a regular file is copied as that one file.
         */
        public Builder copy(Path source, String path) {
            Objects.requireNonNull(source, "source");
            if (!Files.exists(source, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw new InvalidArgumentException("layer source " + source + " does not exist");
            }
            items.add(new CopyItem(normalize(path), source.toAbsolutePath().normalize()));
            return this;
        }

        public Builder dir(String path, int mode) {
            items.add(new DirItem(normalize(path), checkMode(mode)));
            return this;
        }

        public Builder dir(String path) {
            return dir(path, 0755);
        }

        public Builder symlink(String path, String target) {
            items.add(new SymlinkItem(normalize(path), Objects.requireNonNull(target, "target")));
            return this;
        }

        /** Removes {@code path} (file or directory) of the layers below. */
        public Builder delete(String path) {
            String p = normalize(path);
            if (p.equals("/")) {
                throw new InvalidArgumentException("cannot delete the root directory");
            }
            items.add(new DeleteItem(p));
            return this;
        }

        /** The modification time of every entry (default: the epoch, for reproducible layers). */
        public Builder mtime(Instant time) {
            this.mtime = Objects.requireNonNull(time, "mtime");
            return this;
        }

        /** Owner of every entry (default 0:0). */
        public Builder owner(long newUid, long newGid) {
            if (newUid < 0 || newGid < 0) {
                throw new InvalidArgumentException("owner must not be negative: " + newUid + ":" + newGid);
            }
            this.uid = newUid;
            this.gid = newGid;
            return this;
        }

        /** Keeps the modification times of copied host files instead of {@link #mtime}. */
        public Builder keepFileTimes() {
            this.keepFileTimes = true;
            return this;
        }

        public LayerContent build() {
            return new LayerContent(this);
        }

        private static int checkMode(int mode) {
            if ((mode & ~07777) != 0) {
                throw new InvalidArgumentException("mode " + Integer.toOctalString(mode)
                        + " has bits beyond permissions, setuid/setgid and sticky");
            }
            return mode;
        }

        private static String normalize(String path) {
            Objects.requireNonNull(path, "path");
            List<String> parts = new ArrayList<>();
            for (String p : path.split("/")) {
                if (p.isEmpty() || p.equals(".")) {
                    continue;
                }
                if (p.equals("..")) {
                    throw new InvalidArgumentException("layer path \"" + path + "\" must not contain ..");
                }
                if (p.startsWith(".wh.")) {
                    throw new InvalidArgumentException("layer path \"" + path
                            + "\" uses the reserved whiteout prefix .wh.; use delete() to remove a path");
                }
                parts.add(p);
            }
            return "/" + String.join("/", parts);
        }
    }
}
