package dev.berth.sys;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import jnr.ffi.LastError;
import jnr.ffi.Runtime;

/**
 * The system calls the JDK lacks, over Berth's one libc binding ({@link LibC}): the *at(2) family,
 * xattrs in every namespace, device nodes, FIFOs, openat2, mount/umount2 and the new mount API. Every
 * failure becomes an {@link ErrnoException} naming the call, the errno and the path (the {@code try}
 * variants return {@code -errno} instead, for callers that tolerate some failures).
 *
 * <p>Stateless and thread-safe; one shared instance.
 */
public final class Syscalls {
    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int AT_REMOVEDIR = 0x200;
    public static final int AT_EMPTY_PATH = 0x1000;

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_TRUNC = 01000;
    public static final int O_NONBLOCK = 04000;
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

    public static final long RESOLVE_NO_XDEV = 0x01;

    /** sync_file_range(2) flags: wait for write-back already under way, start it, wait for it. */
    public static final int SYNC_FILE_RANGE_WAIT_BEFORE = 1;
    public static final int SYNC_FILE_RANGE_WRITE = 2;
    public static final int SYNC_FILE_RANGE_WAIT_AFTER = 4;

    /** umount2 flag: detach now, finish when no longer busy. */
    public static final int MNT_DETACH = 2;

    // Numbers in the unified syscall table (x86_64 and aarch64 alike).
    private static final long SYS_MOVE_MOUNT = 429;
    private static final long SYS_FSOPEN = 430;
    private static final long SYS_FSCONFIG = 431;
    private static final long SYS_FSMOUNT = 432;
    private static final long SYS_OPENAT2 = 437;
    private static final long SYS_PIDFD_SEND_SIGNAL = 424;
    private static final long SYS_PIDFD_OPEN = 434;
    private static final long SYS_PIDFD_GETFD = 438;
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;

    private static final Syscalls INSTANCE = new Syscalls();

    private final LibC libc;
    private final Runtime runtime;
    private volatile boolean openat2Missing;

    private Syscalls() {
        this.libc = LibC.INSTANCE;
        this.runtime = Runtime.getRuntime(libc);
    }

    public static Syscalls get() {
        return INSTANCE;
    }

    /** The errno of this thread's last call through {@link LibC}. */
    public int errno() {
        return LastError.getLastError(runtime);
    }

    private ErrnoException fail(String syscall, String path) {
        return new ErrnoException(syscall, path, errno());
    }

    /** mount(2); {@code data} may be null. */
    public void mount(String source, String target, String fstype, long flags, String data) throws ErrnoException {
        if (libc.mount(source, target, fstype, flags, data) != 0) {
            throw fail("mount", target);
        }
    }

    /** unshare(2) flag: a new network namespace for the calling thread. */
    public static final int CLONE_NEWNET = 0x40000000;

    /**
     * unshare(2) for the calling thread alone. A thread given a new namespace this way should only do the
     * work that needs it and then end: nothing returns it to the namespace it had.
     */
    public void unshare(int flags) throws ErrnoException {
        if (libc.unshare(flags) != 0) {
            throw fail("unshare", null);
        }
    }

    /**
     * Sets {@code IFF_UP} on interface {@code name} of the calling thread's network namespace (SIOCGIFFLAGS,
     * SIOCSIFFLAGS on a datagram socket), as {@code ip link set <name> up} does.
     */
    public void linkUp(String name) throws ErrnoException {
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length >= IFNAMSIZ) {
            throw new IllegalArgumentException("interface name longer than " + (IFNAMSIZ - 1) + " bytes: " + name);
        }
        int fd = libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw fail("socket", name);
        }
        try {
            byte[] ifreq = new byte[40]; // struct ifreq: the name, then a union whose first member is ifr_flags
            System.arraycopy(bytes, 0, ifreq, 0, bytes.length);
            if (libc.ioctl(fd, SIOCGIFFLAGS, ifreq) != 0) {
                throw fail("ioctl SIOCGIFFLAGS", name);
            }
            ifreq[IFNAMSIZ] |= IFF_UP; // flags are a little-endian short on every platform Berth runs on
            if (libc.ioctl(fd, SIOCSIFFLAGS, ifreq) != 0) {
                throw fail("ioctl SIOCSIFFLAGS", name);
            }
        } finally {
            libc.close(fd);
        }
    }

    private static final int IFNAMSIZ = 16;
    private static final int AF_INET = 2;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final long SIOCGIFFLAGS = 0x8913;
    private static final long SIOCSIFFLAGS = 0x8914;
    private static final int IFF_UP = 1;

    /** umount2(2) returning 0 or -errno: callers decide what "not mounted" and "busy" mean to them. */
    public int tryUmount2(String target, int flags) {
        return libc.umount2(target, flags) == 0 ? 0 : -errno();
    }

    /** umount2(2). */
    public void umount2(String target, int flags) throws ErrnoException {
        if (libc.umount2(target, flags) != 0) {
            throw fail("umount2", target);
        }
    }

    /**
     * A copy of another process's file descriptor {@code targetFd} in this process (pidfd_open(2) then
     * pidfd_getfd(2), Linux 5.6+; the caller needs ptrace rights over {@code pid}, as root has over its
     * children). The new descriptor is close-on-exec; the caller closes it.
     */
    public int pidfdGetfd(long pid, int targetFd) throws ErrnoException {
        long pidfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0L, 0L);
        if (pidfd < 0) {
            throw fail("pidfd_open", "pid " + pid);
        }
        try {
            long fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, targetFd, 0L);
            if (fd < 0) {
                throw fail("pidfd_getfd", "pid " + pid + " fd " + targetFd);
            }
            return (int) fd;
        } finally {
            libc.close((int) pidfd);
        }
    }

    /**
     * Sends {@code signal} to {@code process} if it still runs: pidfd_open(2) holds the pid's process while
     * its start time is compared, so a process that took over a reused pid is never signalled
     * (pidfd_send_signal(2), Linux 5.1+). False if the process is gone or the pid is another's now.
     */
    public boolean signal(ProcessStart process, int signal) throws ErrnoException {
        long pidfd = libc.syscall(SYS_PIDFD_OPEN, process.pid(), 0L, 0L);
        if (pidfd < 0) {
            if (errno() == Errno.ESRCH) {
                return false;
            }
            throw fail("pidfd_open", "pid " + process.pid());
        }
        try {
            if (!ProcessStart.startTicks(process.pid()).equals(java.util.Optional.of(process.startTicks()))) {
                return false;
            }
            if (libc.syscall(SYS_PIDFD_SEND_SIGNAL, pidfd, signal, 0L, 0L) < 0) {
                if (errno() == Errno.ESRCH) {
                    return false;
                }
                throw fail("pidfd_send_signal", "pid " + process.pid());
            }
            return true;
        } finally {
            libc.close((int) pidfd);
        }
    }

    /** Sets O_NONBLOCK on {@code fd} (fcntl F_SETFL). */
    public void setNonBlocking(int fd) throws ErrnoException {
        int flags = libc.fcntl(fd, F_GETFL, 0);
        if (flags < 0 || libc.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
            throw fail("fcntl", "fd " + fd);
        }
    }

    /** fsopen(2) with FSOPEN_CLOEXEC: a file-system context fd, or -errno. */
    public int fsopen(String fstype) {
        long fd = libc.syscall(SYS_FSOPEN, fstype, 1L);
        return fd >= 0 ? (int) fd : -errno();
    }

    /** fsconfig(2): 0 or -errno. {@code key} and {@code value} may be null as the command wants. */
    public int fsconfig(int fd, long cmd, String key, String value) {
        return libc.syscall(SYS_FSCONFIG, fd, cmd, key, value, 0) < 0 ? -errno() : 0;
    }

    /** fsmount(2) with FSMOUNT_CLOEXEC: a mount fd, or -errno. */
    public int fsmount(int fsfd, long attrFlags) {
        long fd = libc.syscall(SYS_FSMOUNT, fsfd, 1L, attrFlags);
        return fd >= 0 ? (int) fd : -errno();
    }

    /** move_mount(2) of the mount fd {@code from} (MOVE_MOUNT_F_EMPTY_PATH) onto {@code target}: 0 or -errno. */
    public int moveMount(int from, String target) {
        return libc.syscall(SYS_MOVE_MOUNT, from, "", AT_FDCWD, target, 4L) < 0 ? -errno() : 0;
    }

    /** read(2) into {@code buf}: bytes read, 0 at the end, or -errno. */
    public long read(int fd, byte[] buf) {
        long n = libc.read(fd, buf, buf.length);
        return n >= 0 ? n : -errno();
    }

    /** Creates a FIFO at {@code path} with {@code mode} (before umask). */
    public void mkfifo(Path path, int mode) throws ErrnoException {
        if (libc.mkfifo(path.toString(), mode) != 0) {
            throw fail("mkfifo", path.toString());
        }
    }

    /** mknod(2): {@code mode} includes the file type bits (S_IFCHR, S_IFBLK, S_IFIFO). */
    public void mknod(Path path, int mode, long major, long minor) throws ErrnoException {
        if (libc.mknod(path.toString(), mode, makedev(major, minor)) != 0) {
            throw fail("mknod", path.toString());
        }
    }

    /** lstat(2): the entry itself, a symlink not followed; {@code null} when it does not exist. */
    public Stat lstat(Path path) throws ErrnoException {
        return lstatat(AT_FDCWD, path.toString());
    }

    /** Sets atime and mtime of {@code path} itself (a symlink is not followed), to the nanosecond. */
    public void setTimes(Path path, Instant atime, Instant mtime) throws ErrnoException {
        lutimensat(AT_FDCWD, path.toString(), atime.getEpochSecond(), atime.getNano(), mtime.getEpochSecond(),
                mtime.getNano());
    }

    /** lsetxattr(2), throwing on failure. */
    public void setXattr(Path path, String name, byte[] value) throws ErrnoException {
        if (libc.lsetxattr(path.toString(), name, value, value.length, 0) != 0) {
            throw fail("lsetxattr " + name, path.toString());
        }
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
        return openat2(dirfd, path, flags, 0, resolve);
    }

    /** openat2(2) with a {@code mode} for {@code O_CREAT} (before the umask: callers fchmod after). */
    public int openat2(int dirfd, String path, int flags, int mode, long resolve) throws ErrnoException {
        byte[] how = new byte[24];
        putLong(how, 0, Integer.toUnsignedLong(flags));
        putLong(how, 8, mode);
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
            throw new ErrnoException("openat2", path, e);
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

    /**
     * Opens the directory {@code name} inside {@code dirfd} for a walk: never through a symlink, and never
     * across a mount point (EXDEV; checked by openat2's RESOLVE_NO_XDEV where the kernel has it).
     * {@code name} is NUL-terminated. Returns the fd or -errno.
     */
    public int tryOpenDirat(int dirfd, byte[] name) {
        int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        if (!openat2Missing) {
            byte[] how = new byte[24];
            putLong(how, 0, Integer.toUnsignedLong(flags));
            putLong(how, 16, RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS);
            while (true) {
                long fd = libc.syscall(SYS_OPENAT2, dirfd, name, how, how.length);
                if (fd >= 0) {
                    return (int) fd;
                }
                int e = errno();
                if (e == Errno.EAGAIN || e == Errno.EINTR) {
                    continue;
                }
                if (e != Errno.ENOSYS) {
                    return -e;
                }
                openat2Missing = true;
                break;
            }
        }
        int fd = libc.openat(dirfd, name, flags, 0);
        return fd >= 0 ? fd : -errno();
    }

    /** lstat of the NUL-terminated {@code name} inside {@code dirfd}; {@code null} when it does not exist. */
    public Stat lstatat(int dirfd, byte[] name, String pathForErrors) throws ErrnoException {
        byte[] buf = new byte[Stat.SIZE];
        if (libc.fstatat(dirfd, name, buf, AT_SYMLINK_NOFOLLOW) != 0) {
            int e = errno();
            if (e == Errno.ENOENT) {
                return null;
            }
            throw new ErrnoException("fstatat", pathForErrors, e);
        }
        return Stat.parse(buf);
    }

    /** unlinkat of the NUL-terminated {@code name}: 0 or -errno. */
    public int tryUnlinkat(int dirfd, byte[] name, int flags) {
        return libc.unlinkat(dirfd, name, flags) == 0 ? 0 : -errno();
    }

    /** The names in the directory {@code fd} (without "." and ".."), each NUL-terminated, read from its start. */
    public List<byte[]> readDirectory(int fd, String pathForErrors) throws ErrnoException {
        List<byte[]> names = new ArrayList<>();
        byte[] buf = new byte[32 * 1024];
        while (true) {
            long n = libc.getdents64(fd, buf, buf.length);
            if (n < 0) {
                if (errno() == Errno.EINTR) {
                    continue;
                }
                throw fail("getdents64", pathForErrors);
            }
            if (n == 0) {
                return names;
            }
            // struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, char name[] (NUL-terminated)
            for (int off = 0; off < n; ) {
                int reclen = (buf[off + 16] & 0xff) | (buf[off + 17] & 0xff) << 8;
                int nameStart = off + 19;
                int nameEnd = nameStart;
                while (buf[nameEnd] != 0) {
                    nameEnd++;
                }
                int len = nameEnd - nameStart;
                boolean dot = buf[nameStart] == '.' && (len == 1 || (len == 2 && buf[nameStart + 1] == '.'));
                if (!dot) {
                    names.add(Arrays.copyOfRange(buf, nameStart, nameEnd + 1));
                }
                off += reclen;
            }
        }
    }

    /** openat of the NUL-terminated {@code name} (O_CLOEXEC added): the fd or -errno. */
    public int tryOpenat(int dirfd, byte[] name, int flags) {
        int fd = libc.openat(dirfd, name, flags | O_CLOEXEC, 0);
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
            throw new ErrnoException("fstatat", path, e);
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
     * sync_file_range(2): with {@link #SYNC_FILE_RANGE_WRITE} alone, starts the write-back of the range's dirty
     * pages without waiting for it (it makes nothing durable: no metadata, no device cache flush; an fsync still
     * must follow). Returns 0 or -errno.
     */
    public int syncFileRange(int fd, long offset, long length, int flags) {
        return libc.sync_file_range(fd, offset, length, flags) == 0 ? 0 : -errno();
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
                return Arrays.copyOf(buf, (int) n);
            }
            int e = errno();
            if (e == Errno.ENODATA || e == Errno.EOPNOTSUPP) {
                return null;
            }
            if (e != Errno.ERANGE) {
                throw new ErrnoException("lgetxattr " + name, path, e);
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
                throw new ErrnoException("llistxattr", path, e);
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

    private static void putLong(byte[] b, int off, long v) {
        for (int i = 0; i < 8; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }
}
