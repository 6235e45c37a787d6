package dev.berth.sys;

import dev.berth.api.snapshot.Usage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Berth's one recursive delete and disk-usage walk. Both work relative to directory fds (openat,
 * fstatat, unlinkat, as Go's {@code os.RemoveAll}): no symlink is ever followed, depth is not limited
 * by PATH_MAX, and a directory renamed or replaced by a symlink mid-walk cannot redirect them.
 */
public final class FileTrees {
    private static final Syscalls SYS = Syscalls.get();

    private FileTrees() {
    }

    /**
     * Deletes {@code path} and, for a directory, everything below it, without following symlinks (a link
     * is removed, not what it points to). Refuses, before deleting anything, when a mount point is at or
     * below {@code path}, and while walking whenever a directory is on another file system or is a mount
     * point: deleting through a mount would destroy the mounted (image, volume or host) data. A missing
     * {@code path} (or null) is fine.
     *
     * @throws IOException naming the mount point when refusing, or the entry that could not be removed
     */
    public static void deleteTree(Path path) throws IOException {
        if (path == null) {
            return;
        }
        Path abs = path.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent == null) {
            throw new IOException("refusing to delete the root directory /");
        }
        int parentFd = SYS.tryOpenat(Syscalls.AT_FDCWD, parent.toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY, 0);
        if (parentFd == -Errno.ENOENT) {
            return;
        }
        if (parentFd < 0) {
            throw new ErrnoException("openat", parent.toString(), -parentFd);
        }
        try {
            byte[] name = cName(abs.getFileName().toString());
            Stat st = SYS.lstatat(parentFd, name, abs.toString());
            if (st == null) {
                return;
            }
            if (!st.isDirectory()) {
                unlink(parentFd, name, 0, abs.toString());
                return;
            }
            Path real = parent.toRealPath().resolve(abs.getFileName());
            List<Path> mounts = MountInfo.mountPointsUnder(real);
            if (!mounts.isEmpty()) {
                throw new IOException("refusing to delete " + abs + ": " + mounts.get(mounts.size() - 1)
                        + " is a mount point");
            }
            deleteDirectory(parentFd, name, st.dev(), abs.toString());
        } finally {
            SYS.close(parentFd);
        }
    }

    private static void deleteDirectory(int parentFd, byte[] name, long dev, String path) throws IOException {
        int fd = openDirectory(parentFd, name, dev, path);
        if (fd == -Errno.ENOENT) {
            return;
        }
        try {
            for (byte[] child : SYS.readDirectory(fd, path)) {
                String childPath = path + "/" + javaName(child);
                int rc = SYS.tryUnlinkat(fd, child, 0);
                if (rc == 0 || rc == -Errno.ENOENT) {
                    continue;
                }
                if (rc != -Errno.EISDIR && rc != -Errno.EPERM) {
                    throw new ErrnoException("unlinkat", childPath, -rc);
                }
                Stat st = SYS.lstatat(fd, child, childPath);
                if (st == null) {
                    continue;
                }
                if (!st.isDirectory()) {
                    throw new ErrnoException("unlinkat", childPath, -rc);
                }
                deleteDirectory(fd, child, dev, childPath);
            }
        } finally {
            SYS.close(fd);
        }
        unlink(parentFd, name, Syscalls.AT_REMOVEDIR, path);
    }

    /** Opens a directory of the walk, refusing one on another file system or one that is a mount point. */
    private static int openDirectory(int parentFd, byte[] name, long dev, String path) throws IOException {
        int fd = SYS.tryOpenDirat(parentFd, name);
        if (fd == -Errno.EXDEV) {
            throw new IOException("refusing to delete " + path + ": it is a mount point");
        }
        if (fd == -Errno.ENOENT) {
            return fd;
        }
        if (fd < 0) {
            throw new ErrnoException("openat", path, -fd);
        }
        Stat st;
        try {
            st = SYS.fstat(fd, path);
        } catch (ErrnoException e) {
            SYS.close(fd);
            throw e;
        }
        if (st.dev() != dev) {
            SYS.close(fd);
            throw new IOException("refusing to delete " + path + ": a different file system is mounted there");
        }
        return fd;
    }

    private static void unlink(int dirfd, byte[] name, int flags, String path) throws ErrnoException {
        int rc = SYS.tryUnlinkat(dirfd, name, flags);
        if (rc != 0 && rc != -Errno.ENOENT) {
            throw new ErrnoException("unlinkat", path, -rc);
        }
    }

    /**
     * containerd's {@code fs.DiskUsage}: every inode under {@code dir} (including it) counted once, and
     * the space allocated to them ({@code st_blocks * 512}), so hardlinks and sparse files count as what
     * they occupy. Entries that vanish during the walk are skipped; a missing {@code dir} uses nothing.
     */
    public static Usage diskUsage(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        Stat root = SYS.lstat(abs);
        if (root == null) {
            return new Usage(0, 0);
        }
        Set<InodeKey> seen = new HashSet<>();
        long[] bytes = {0};
        count(root, seen, bytes);
        if (root.isDirectory()) {
            int fd = SYS.tryOpenat(Syscalls.AT_FDCWD, abs.toString(),
                    Syscalls.O_RDONLY | Syscalls.O_DIRECTORY | Syscalls.O_NOFOLLOW, 0);
            if (fd < 0) {
                if (fd == -Errno.ENOENT) {
                    return new Usage(0, 0);
                }
                throw new ErrnoException("openat", abs.toString(), -fd);
            }
            try {
                usageOf(fd, abs.toString(), seen, bytes);
            } finally {
                SYS.close(fd);
            }
        }
        return new Usage(seen.size(), bytes[0]);
    }

    private static void usageOf(int fd, String path, Set<InodeKey> seen, long[] bytes) throws IOException {
        for (byte[] child : SYS.readDirectory(fd, path)) {
            String childPath = path + "/" + javaName(child);
            Stat st = SYS.lstatat(fd, child, childPath);
            if (st == null) {
                continue;
            }
            count(st, seen, bytes);
            if (!st.isDirectory()) {
                continue;
            }
            int childFd = SYS.tryOpenat(fd, child, Syscalls.O_RDONLY | Syscalls.O_DIRECTORY | Syscalls.O_NOFOLLOW);
            if (childFd == -Errno.ENOENT) {
                continue;
            }
            if (childFd < 0) {
                throw new ErrnoException("openat", childPath, -childFd);
            }
            try {
                usageOf(childFd, childPath, seen, bytes);
            } finally {
                SYS.close(childFd);
            }
        }
    }

    private static void count(Stat st, Set<InodeKey> seen, long[] bytes) {
        if (seen.add(new InodeKey(st.dev(), st.ino()))) {
            bytes[0] += st.blocks() * 512;
        }
    }

    private record InodeKey(long dev, long ino) {
    }

    private static byte[] cName(String name) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        byte[] c = new byte[b.length + 1];
        System.arraycopy(b, 0, c, 0, b.length);
        return c;
    }

    private static String javaName(byte[] cName) {
        return new String(cName, 0, cName.length - 1, StandardCharsets.UTF_8);
    }
}
