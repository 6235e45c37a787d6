package dev.berth.snapshot.internal;

import dev.berth.api.BerthException;
import dev.berth.api.snapshot.Usage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Whole-tree operations on snapshot directories: disk usage, deletion, copying. */
public final class FileTrees {
    // struct stat offsets shared by x86_64 and aarch64 (st_dev, st_ino, st_blocks).
    private static final int STAT_SIZE = 256;
    private static final int OFF_DEV = 0;
    private static final int OFF_INO = 8;
    private static final int OFF_BLOCKS = 64;

    private FileTrees() {
    }

    /**
     * containerd's {@code fs.DiskUsage}: every inode under {@code dir} (including it) counted once, and
     * the space allocated to them ({@code st_blocks * 512}), so hardlinks and sparse files count as what
     * they occupy.
     */
    public static Usage diskUsage(Path dir) {
        Set<InodeKey> seen = new HashSet<>();
        long[] bytes = {0};
        byte[] buf = new byte[STAT_SIZE];
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                    count(d);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
                    count(f);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }

                private void count(Path p) {
                    if (LibC.INSTANCE.lstat(p.toString(), buf) != 0) {
                        int errno = LibC.errno();
                        if (errno == Errno.ENOENT) {
                            return;
                        }
                        throw new BerthException("lstat " + p + ": " + Errno.name(errno));
                    }
                    ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.nativeOrder());
                    if (seen.add(new InodeKey(bb.getLong(OFF_DEV), bb.getLong(OFF_INO)))) {
                        bytes[0] += bb.getLong(OFF_BLOCKS) * 512;
                    }
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("disk usage of " + dir, e);
        }
        return new Usage(seen.size(), bytes[0]);
    }

    private record InodeKey(long dev, long ino) {
    }

    /**
     * Deletes {@code dir} and everything below it without following symlinks. Refuses to descend into a
     * different file system (something mounted inside), so a forgotten mount never loses its contents.
     * A missing {@code dir} is fine.
     */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Object rootDev = Files.getAttribute(dir, "unix:dev", LinkOption.NOFOLLOW_LINKS);
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                Object dev = Files.getAttribute(d, "unix:dev", LinkOption.NOFOLLOW_LINKS);
                if (!dev.equals(rootDev)) {
                    throw new IOException("refusing to delete " + d + ": a different file system is mounted there");
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(f);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) {
                    throw e;
                }
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * Copies the contents and attributes of {@code src} into the existing directory {@code dst}: owners,
     * modes, times, xattrs (including {@code trusted.*} and {@code security.*}), hardlinks, devices,
     * fifos, sockets and symlinks, sharing extents where the file system can ({@code cp -a
     * --reflink=auto}; GNU cp does all of this in one pass and reflinks on btrfs/xfs).
     */
    public static void copyTree(Path src, Path dst) throws IOException {
        List<String> cmd = List.of("cp", "-a", "--reflink=auto", "--", src + "/.", dst.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE)
                .start();
        p.getOutputStream().close();
        String output;
        try (InputStream in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        }
        int rc;
        try {
            rc = p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while copying " + src + " to " + dst, e);
        }
        if (rc != 0) {
            throw new IOException("copying " + src + " to " + dst + " failed (cp exit " + rc + "): " + output);
        }
    }
}
