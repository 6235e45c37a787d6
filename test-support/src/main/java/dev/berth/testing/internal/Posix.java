package dev.berth.testing.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/** The few libc calls the JDK lacks: l*xattr on any namespace, utimensat without following, mknod. */
public final class Posix {
    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int ERANGE = 34;
    private static final int ENODATA = 61;

    /** libc signatures, bound by jnr-ffi. */
    public interface LibC {
        @ssize_t long llistxattr(String path, @Out byte[] list, @size_t long size);

        @ssize_t long lgetxattr(String path, String name, @Out byte[] value, @size_t long size);

        int lsetxattr(String path, String name, @In byte[] value, @size_t long size, int flags);

        int utimensat(int dirfd, String path, @In long[] times, int flags);

        int mknod(String path, int mode, long dev);

        String strerror(int errnum);
    }

    private static final class Holder {
        static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
        static final Runtime RUNTIME = Runtime.getRuntime(LIBC);
    }

    private Posix() {
    }

    private static IOException error(String call, Path path) {
        int errno = LastError.getLastError(Holder.RUNTIME);
        return new IOException(call + " " + path + ": " + Holder.LIBC.strerror(errno) + " (errno " + errno + ")");
    }

    /** Names of the extended attributes of {@code path} (not following a symlink), in any namespace. */
    public static List<String> listXattrs(Path path) throws IOException {
        String p = path.toString();
        while (true) {
            long size = Holder.LIBC.llistxattr(p, null, 0);
            if (size < 0) {
                throw error("llistxattr", path);
            }
            if (size == 0) {
                return List.of();
            }
            byte[] buf = new byte[(int) size];
            long got = Holder.LIBC.llistxattr(p, buf, buf.length);
            if (got < 0) {
                if (LastError.getLastError(Holder.RUNTIME) == ERANGE) {
                    continue;
                }
                throw error("llistxattr", path);
            }
            List<String> names = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < got; i++) {
                if (buf[i] == 0) {
                    if (i > start) {
                        names.add(new String(buf, start, i - start, StandardCharsets.UTF_8));
                    }
                    start = i + 1;
                }
            }
            return names;
        }
    }

    /** The value of xattr {@code name} of {@code path} (not following a symlink), or null if absent. */
    public static byte[] getXattr(Path path, String name) throws IOException {
        String p = path.toString();
        while (true) {
            long size = Holder.LIBC.lgetxattr(p, name, null, 0);
            if (size < 0) {
                if (LastError.getLastError(Holder.RUNTIME) == ENODATA) {
                    return null;
                }
                throw error("lgetxattr " + name, path);
            }
            byte[] buf = new byte[(int) size];
            if (size == 0) {
                return buf;
            }
            long got = Holder.LIBC.lgetxattr(p, name, buf, buf.length);
            if (got < 0) {
                if (LastError.getLastError(Holder.RUNTIME) == ERANGE) {
                    continue;
                }
                throw error("lgetxattr " + name, path);
            }
            return got == buf.length ? buf : Arrays.copyOf(buf, (int) got);
        }
    }

    /** Sets xattr {@code name} on {@code path} itself (a symlink is not followed). */
    public static void setXattr(Path path, String name, byte[] value) throws IOException {
        if (Holder.LIBC.lsetxattr(path.toString(), name, value, value.length, 0) != 0) {
            throw error("lsetxattr " + name, path);
        }
    }

    /** Sets atime and mtime of {@code path} itself (a symlink is not followed), to the nanosecond. */
    public static void setTimes(Path path, Instant atime, Instant mtime) throws IOException {
        long[] times = {atime.getEpochSecond(), atime.getNano(), mtime.getEpochSecond(), mtime.getNano()};
        if (Holder.LIBC.utimensat(AT_FDCWD, path.toString(), times, AT_SYMLINK_NOFOLLOW) != 0) {
            throw error("utimensat", path);
        }
    }

    /** mknod(2): {@code mode} includes the file type bits (S_IFCHR 0020000, S_IFBLK 0060000, S_IFIFO 0010000). */
    public static void mknod(Path path, int mode, int major, int minor) throws IOException {
        if (Holder.LIBC.mknod(path.toString(), mode, makedev(major, minor)) != 0) {
            throw error("mknod", path);
        }
    }

    /** glibc's makedev encoding. */
    public static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8)
                | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }

    public static int major(long dev) {
        return (int) (((dev >>> 32) & 0xfffff000L) | ((dev >>> 8) & 0xfffL));
    }

    public static int minor(long dev) {
        return (int) (((dev >>> 12) & 0xffffff00L) | (dev & 0xffL));
    }
}
