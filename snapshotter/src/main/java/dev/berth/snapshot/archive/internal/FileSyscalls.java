package dev.berth.snapshot.archive.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;

/**
 * The *at(2) family, xattrs, mknod and openat2 through jnr-ffi: what the applier needs that the JDK
 * cannot do (no dirfd-relative operations, no device nodes, no trusted.* xattrs, no openat2). Every
 * failure becomes an {@link ErrnoException} naming the call, the errno and the path.
 *
 * <p>Stateless and thread-safe; one shared instance.
 */
public final class FileSyscalls {
    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int AT_REMOVEDIR = 0x200;
    public static final int AT_EMPTY_PATH = 0x1000;

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_TRUNC = 01000;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_NOFOLLOW = 0400000;
    public static final int O_CLOEXEC = 02000000;
    public static final int O_PATH = 010000000;

    public static final long RESOLVE_NO_MAGICLINKS = 0x02;
    public static final long RESOLVE_NO_SYMLINKS = 0x04;
    public static final long RESOLVE_BENEATH = 0x08;
    public static final long RESOLVE_IN_ROOT = 0x10;

    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFBLK = 060000;
    public static final int S_IFDIR = 040000;
    public static final int S_IFCHR = 020000;
    public static final int S_IFIFO = 010000;

    /** openat2's number in the unified syscall table (x86_64 and aarch64 alike). */
    private static final long SYS_OPENAT2 = 437;

    /** libc as jnr-ffi sees it. Only for this class. */
    public interface LibC {
        long syscall(long number, int dirfd, String path, @In byte[] how, long size);

        int openat(int dirfd, String path, int flags, int mode);

        int close(int fd);

        int mkdirat(int dirfd, String path, int mode);

        int mknodat(int dirfd, String path, int mode, long dev);

        int symlinkat(String target, int dirfd, String linkpath);

        int linkat(int olddirfd, String oldpath, int newdirfd, String newpath, int flags);

        int unlinkat(int dirfd, String path, int flags);

        int fchownat(int dirfd, String path, int uid, int gid, int flags);

        int fchown(int fd, int uid, int gid);

        int fchmodat(int dirfd, String path, int mode, int flags);

        int fchmod(int fd, int mode);

        int utimensat(int dirfd, String path, @In long[] times, int flags);

        int futimens(int fd, @In long[] times);

        int fstatat(int dirfd, String path, @Out byte[] stat, int flags);

        int fstat(int fd, @Out byte[] stat);

        long readlinkat(int dirfd, String path, @Out byte[] buf, long size);

        long write(int fd, ByteBuffer buf, long count);

        long pwrite(int fd, ByteBuffer buf, long count, long offset);

        long read(int fd, ByteBuffer buf, long count);

        int ftruncate(int fd, long length);

        long copy_file_range(int fdIn, Pointer offIn, int fdOut, Pointer offOut, long len, int flags);

        int lsetxattr(String path, String name, @In byte[] value, long size, int flags);

        int fsetxattr(int fd, String name, @In byte[] value, long size, int flags);

        long lgetxattr(String path, String name, @Out byte[] value, long size);

        long fgetxattr(int fd, String name, @Out byte[] value, long size);

        long llistxattr(String path, @Out byte[] list, long size);

        long flistxattr(int fd, @Out byte[] list, long size);

        String strerror(int errnum);
    }

    private static final FileSyscalls INSTANCE = new FileSyscalls();

    private final LibC libc;
    private final Runtime runtime;
    private volatile boolean openat2Missing;

    private FileSyscalls() {
        this.libc = LibraryLoader.create(LibC.class).load("c");
        this.runtime = Runtime.getRuntime(libc);
    }

    public static FileSyscalls get() {
        return INSTANCE;
    }

    private int errno() {
        return LastError.getLastError(runtime);
    }

    private ErrnoException fail(String syscall, String path) {
        int e = errno();
        return new ErrnoException(syscall, path, e, libc.strerror(e));
    }

    /** Whether the kernel has openat2(2) (5.6+). */
    public boolean hasOpenat2() {
        return !openat2Missing;
    }

    /**
     * openat2(2) with {@code resolve} flags. Returns the fd; throws with errno ENOSYS when the kernel
     * lacks the call (callers fall back to a component walk).
     */
    public int openat2(int dirfd, String path, int flags, long resolve) throws ErrnoException {
        byte[] how = new byte[24];
        putLong(how, 0, Integer.toUnsignedLong(flags));
        putLong(how, 8, 0);
        putLong(how, 16, resolve);
        while (true) {
            long fd = libc.syscall(SYS_OPENAT2, dirfd, path, how, how.length);
            if (fd >= 0) {
                return (int) fd;
            }
            int e = errno();
            if (e == Errno.EAGAIN || e == Errno.EINTR) {
                continue; // openat2 returns EAGAIN when a concurrent rename raced the lookup
            }
            if (e == Errno.ENOSYS) {
                openat2Missing = true;
            }
            throw new ErrnoException("openat2", path, e, libc.strerror(e));
        }
    }

    public int openat(int dirfd, String path, int flags, int mode) throws ErrnoException {
        int fd = libc.openat(dirfd, path, flags | O_CLOEXEC, mode);
        if (fd < 0) {
            throw fail("openat", path);
        }
        return fd;
    }

    /** openat returning -errno instead of throwing. */
    public int tryOpenat(int dirfd, String path, int flags, int mode) {
        int fd = libc.openat(dirfd, path, flags | O_CLOEXEC, mode);
        return fd >= 0 ? fd : -errno();
    }

    public void close(int fd) {
        if (fd >= 0) {
            libc.close(fd);
        }
    }

    public void mkdirat(int dirfd, String path, int mode) throws ErrnoException {
        if (libc.mkdirat(dirfd, path, mode) != 0) {
            throw fail("mkdirat", path);
        }
    }

    /** mkdirat returning 0 or -errno. */
    public int tryMkdirat(int dirfd, String path, int mode) {
        return libc.mkdirat(dirfd, path, mode) == 0 ? 0 : -errno();
    }

    public void mknodat(int dirfd, String path, int mode, long major, long minor) throws ErrnoException {
        if (libc.mknodat(dirfd, path, mode, makedev(major, minor)) != 0) {
            throw fail("mknodat", path);
        }
    }

    public void symlinkat(String target, int dirfd, String path) throws ErrnoException {
        if (libc.symlinkat(target, dirfd, path) != 0) {
            throw fail("symlinkat", path);
        }
    }

    public void linkat(int olddirfd, String oldpath, int newdirfd, String newpath) throws ErrnoException {
        if (libc.linkat(olddirfd, oldpath, newdirfd, newpath, 0) != 0) {
            throw fail("linkat", newpath + " -> " + oldpath);
        }
    }

    public void unlinkat(int dirfd, String path, int flags) throws ErrnoException {
        if (libc.unlinkat(dirfd, path, flags) != 0) {
            throw fail("unlinkat", path);
        }
    }

    public void fchownat(int dirfd, String path, int uid, int gid, int flags) throws ErrnoException {
        if (libc.fchownat(dirfd, path, uid, gid, flags) != 0) {
            throw fail("fchownat", path);
        }
    }

    public void fchown(int fd, int uid, int gid, String path) throws ErrnoException {
        if (libc.fchown(fd, uid, gid) != 0) {
            throw fail("fchown", path);
        }
    }

    public void fchmodat(int dirfd, String path, int mode) throws ErrnoException {
        if (libc.fchmodat(dirfd, path, mode, 0) != 0) {
            throw fail("fchmodat", path);
        }
    }

    public void fchmod(int fd, int mode, String path) throws ErrnoException {
        if (libc.fchmod(fd, mode) != 0) {
            throw fail("fchmod", path);
        }
    }

    /** utimensat with {@code AT_SYMLINK_NOFOLLOW}: times of the entry itself, symlinks included. */
    public void lutimensat(int dirfd, String path, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec)
            throws ErrnoException {
        long[] times = {atimeSec, atimeNsec, mtimeSec, mtimeNsec};
        if (libc.utimensat(dirfd, path, times, AT_SYMLINK_NOFOLLOW) != 0) {
            throw fail("utimensat", path);
        }
    }

    public void futimens(int fd, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec, String path)
            throws ErrnoException {
        long[] times = {atimeSec, atimeNsec, mtimeSec, mtimeNsec};
        if (libc.futimens(fd, times) != 0) {
            throw fail("futimens", path);
        }
    }

    /** lstat relative to {@code dirfd}; {@code null} when the name does not exist (ENOENT). */
    public Stat lstatat(int dirfd, String path) throws ErrnoException {
        byte[] buf = new byte[Stat.SIZE];
        if (libc.fstatat(dirfd, path, buf, AT_SYMLINK_NOFOLLOW) != 0) {
            int e = errno();
            if (e == Errno.ENOENT) {
                return null;
            }
            throw new ErrnoException("fstatat", path, e, libc.strerror(e));
        }
        return Stat.parse(buf);
    }

    public Stat fstat(int fd, String path) throws ErrnoException {
        byte[] buf = new byte[Stat.SIZE];
        if (libc.fstat(fd, buf) != 0) {
            throw fail("fstat", path);
        }
        return Stat.parse(buf);
    }

    public String readlinkat(int dirfd, String path) throws ErrnoException {
        byte[] buf = new byte[4096];
        while (true) {
            long n = libc.readlinkat(dirfd, path, buf, buf.length);
            if (n < 0) {
                throw fail("readlinkat", path);
            }
            if (n < buf.length) {
                return new String(buf, 0, (int) n, StandardCharsets.UTF_8);
            }
            buf = new byte[buf.length * 2];
        }
    }

    /** Writes all of {@code buf} (direct buffer, from position 0 to its limit) to {@code fd}. */
    public void writeFully(int fd, ByteBuffer buf, int length, String path) throws ErrnoException {
        int done = 0;
        while (done < length) {
            ByteBuffer slice = done == 0 ? buf : buf.slice(done, length - done);
            long n = libc.write(fd, slice, length - done);
            if (n < 0) {
                if (errno() == Errno.EINTR) {
                    continue;
                }
                throw fail("write", path);
            }
            done += (int) n;
        }
    }

    /** pwrite of all of {@code buf}[0, length) at {@code offset}. */
    public void pwriteFully(int fd, ByteBuffer buf, int length, long offset, String path) throws ErrnoException {
        int done = 0;
        while (done < length) {
            ByteBuffer slice = done == 0 ? buf : buf.slice(done, length - done);
            long n = libc.pwrite(fd, slice, length - done, offset + done);
            if (n < 0) {
                if (errno() == Errno.EINTR) {
                    continue;
                }
                throw fail("pwrite", path);
            }
            done += (int) n;
        }
    }

    public int read(int fd, ByteBuffer buf, int length, String path) throws ErrnoException {
        while (true) {
            long n = libc.read(fd, buf, length);
            if (n >= 0) {
                return (int) n;
            }
            if (errno() != Errno.EINTR) {
                throw fail("read", path);
            }
        }
    }

    public void ftruncate(int fd, long length, String path) throws ErrnoException {
        if (libc.ftruncate(fd, length) != 0) {
            throw fail("ftruncate", path);
        }
    }

    /**
     * copy_file_range(2) from the current offset of {@code in} to that of {@code out}. Returns bytes
     * copied (0 at end of input) or -errno.
     */
    public long copyFileRange(int in, int out, long len) {
        long n = libc.copy_file_range(in, null, out, null, len, 0);
        return n >= 0 ? n : -errno();
    }

    /** lsetxattr; returns 0 or -errno so callers decide which failures to tolerate. */
    public int lsetxattr(String path, String name, byte[] value) {
        return libc.lsetxattr(path, name, value, value.length, 0) == 0 ? 0 : -errno();
    }

    public int fsetxattr(int fd, String name, byte[] value) {
        return libc.fsetxattr(fd, name, value, value.length, 0) == 0 ? 0 : -errno();
    }

    /** The value of xattr {@code name} on {@code path} (not following a final symlink), or null if absent. */
    public byte[] lgetxattr(String path, String name) throws ErrnoException {
        byte[] buf = new byte[256];
        while (true) {
            long n = libc.lgetxattr(path, name, buf, buf.length);
            if (n >= 0) {
                return java.util.Arrays.copyOf(buf, (int) n);
            }
            int e = errno();
            if (e == Errno.ENODATA || e == Errno.EOPNOTSUPP) {
                return null;
            }
            if (e != Errno.ERANGE) {
                throw new ErrnoException("lgetxattr", path, e, libc.strerror(e));
            }
            long size = libc.lgetxattr(path, name, null, 0);
            buf = new byte[(int) Math.max(size, buf.length * 2L)];
        }
    }

    /** The xattr names on {@code path} (not following a final symlink). */
    public List<String> llistxattr(String path) throws ErrnoException {
        byte[] buf = new byte[1024];
        while (true) {
            long n = libc.llistxattr(path, buf, buf.length);
            if (n >= 0) {
                return splitNames(buf, (int) n);
            }
            int e = errno();
            if (e == Errno.EOPNOTSUPP) {
                return List.of();
            }
            if (e != Errno.ERANGE) {
                throw new ErrnoException("llistxattr", path, e, libc.strerror(e));
            }
            long size = libc.llistxattr(path, null, 0);
            buf = new byte[(int) Math.max(size, buf.length * 2L)];
        }
    }

    private static List<String> splitNames(byte[] buf, int n) {
        List<String> names = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < n; i++) {
            if (buf[i] == 0) {
                if (i > start) {
                    names.add(new String(buf, start, i - start, StandardCharsets.UTF_8));
                }
                start = i + 1;
            }
        }
        return names;
    }

    /** The path through which l*xattr calls reach {@code name} inside the directory {@code dirfd}. */
    public static String procPath(int dirfd, String name) {
        return name.isEmpty() ? "/proc/self/fd/" + dirfd : "/proc/self/fd/" + dirfd + "/" + name;
    }

    public String strerror(int errno) {
        return libc.strerror(errno);
    }

    static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8)
                | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }

    private static void putLong(byte[] b, int off, long v) {
        for (int i = 0; i < 8; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }
}
