package dev.berth.snapshot;

import dev.berth.testing.TestFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

/**
 * One change to a file tree, applied the same way to a snapshot's mount and to a plain reference
 * directory, so the two can be compared afterwards (the role of containerd's {@code fstest} appliers).
 * Paths are relative to the tree's root.
 */
@FunctionalInterface
interface FsChange {
    void apply(Path root) throws IOException;

    static FsChange all(FsChange... changes) {
        return root -> {
            for (FsChange c : changes) {
                c.apply(root);
            }
        };
    }

    static FsChange all(List<FsChange> changes) {
        return all(changes.toArray(FsChange[]::new));
    }

    /** Writes (truncating an existing file in place) and sets the permission bits. */
    static FsChange createFile(String path, byte[] content, int mode) {
        return root -> {
            Path p = root.resolve(path);
            Files.write(p, content);
            Files.setAttribute(p, "unix:mode", mode);
        };
    }

    static FsChange createFile(String path, String content, int mode) {
        return createFile(path, content.getBytes(), mode);
    }

    /** Creates the directory (and missing parents) and sets its permission bits. */
    static FsChange createDir(String path, int mode) {
        return root -> {
            Path p = root.resolve(path);
            Files.createDirectories(p);
            Files.setAttribute(p, "unix:mode", mode);
        };
    }

    static FsChange removeAll(String path) {
        return root -> {
            TestFiles.deleteTree(root.resolve(path));
        };
    }

    static FsChange chown(String path, int uid, int gid) {
        return root -> {
            Path p = root.resolve(path);
            Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        };
    }

    static FsChange chmod(String path, int mode) {
        return root -> Files.setAttribute(root.resolve(path), "unix:mode", mode);
    }

    /**
     * rename(2), replacing the target. Where the kernel refuses with EXDEV (a directory from a lower
     * overlay layer without {@code redirect_dir}), it copies and deletes as mv(1) does.
     */
    static FsChange rename(String from, String to) {
        return root -> {
            Path src = root.resolve(from);
            Path dst = root.resolve(to);
            try {
                Files.move(src, dst, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException exdev) {
                copyTree(src, dst);
                removeAll(from).apply(root);
            }
        };
    }

    /** Creates {@code link} as a hard link to {@code existing}. */
    static FsChange link(String existing, String link) {
        return root -> Files.createLink(root.resolve(link), root.resolve(existing));
    }

    static FsChange symlink(String target, String link) {
        return root -> Files.createSymbolicLink(root.resolve(link), Path.of(target));
    }

    /** Overwrites bytes at {@code offset} without truncating (a partial update of a lower file). */
    static FsChange writeAt(String path, long offset, byte[] bytes) {
        return root -> {
            try (FileChannel ch = FileChannel.open(root.resolve(path), StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                long pos = offset;
                while (b.hasRemaining()) {
                    pos += ch.write(b, pos);
                }
            }
        };
    }

    private static void copyTree(Path src, Path dst) throws IOException {
        Files.walkFileTree(src, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
                Path t = dst.resolve(src.relativize(d).toString());
                Files.copy(d, t, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                copyOwner(d, t);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                Path t = dst.resolve(src.relativize(f).toString());
                Files.copy(f, t, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                copyOwner(f, t);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void copyOwner(Path from, Path to) throws IOException {
        Files.setAttribute(to, "unix:uid", Files.getAttribute(from, "unix:uid", LinkOption.NOFOLLOW_LINKS),
                LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(to, "unix:gid", Files.getAttribute(from, "unix:gid", LinkOption.NOFOLLOW_LINKS),
                LinkOption.NOFOLLOW_LINKS);
        if (!Files.isSymbolicLink(to)) {
            Files.setAttribute(to, "unix:mode", Files.getAttribute(from, "unix:mode"));
        }
    }
}
