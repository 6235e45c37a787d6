package dev.berth.sys;

import java.nio.ByteBuffer;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/**
 * libc as jnr-ffi binds it: Berth's only binding (public only because jnr-ffi implements it in
 * another class loader). Call it through {@link Syscalls}, which turns failures into
 * {@link ErrnoException}s; every call saves errno. Paths given as {@code byte[]} must end in NUL.
 */
public interface LibC {
    @SaveError
    int mount(String source, String target, String fstype, long flags, String data);

    @SaveError
    int umount2(String target, int flags);

    @SaveError
    int mkfifo(String path, int mode);

    @SaveError
    int mknod(String path, int mode, long dev);

    /** openat2(2): {@code syscall(nr, dirfd, path, how, size)}. */
    @SaveError
    long syscall(long number, int dirfd, String path, @In byte[] how, long size);

    /** openat2(2) on a NUL-terminated name. */
    @SaveError
    long syscall(long number, int dirfd, @In byte[] path, @In byte[] how, long size);

    /** fsopen(2): {@code syscall(nr, fsname, flags)}. All integer arguments are longs: syscall is variadic. */
    @SaveError
    long syscall(long nr, String a1, long a2);

    /** fsconfig(2): {@code syscall(nr, fd, cmd, key, value, aux)}. */
    @SaveError
    long syscall(long nr, long a1, long a2, String a3, String a4, long a5);

    /** fsmount(2): {@code syscall(nr, fd, flags, attrFlags)}. */
    @SaveError
    long syscall(long nr, long a1, long a2, long a3);

    /** pidfd_send_signal(2): {@code syscall(nr, pidfd, sig, info, flags)}. */
    @SaveError
    long syscall(long nr, long a1, long a2, long a3, long a4);

    /** move_mount(2): {@code syscall(nr, fromDirFd, fromPath, toDirFd, toPath, flags)}. */
    @SaveError
    long syscall(long nr, long a1, String a2, long a3, String a4, long a5);

    @SaveError
    int openat(int dirfd, String path, int flags, int mode);

    @SaveError
    int openat(int dirfd, @In byte[] path, int flags, int mode);

    @SaveError
    int close(int fd);

    /** fcntl(2) with an int argument (F_GETFL, F_SETFL). */
    @SaveError
    int fcntl(int fd, int cmd, int arg);

    @SaveError
    long getdents64(int fd, @Out byte[] buf, long count);

    @SaveError
    int mkdirat(int dirfd, String path, int mode);

    @SaveError
    int mknodat(int dirfd, String path, int mode, long dev);

    @SaveError
    int symlinkat(String target, int dirfd, String linkpath);

    @SaveError
    int linkat(int olddirfd, String oldpath, int newdirfd, String newpath, int flags);

    @SaveError
    int unlinkat(int dirfd, String path, int flags);

    @SaveError
    int unlinkat(int dirfd, @In byte[] path, int flags);

    @SaveError
    int fchownat(int dirfd, String path, int uid, int gid, int flags);

    @SaveError
    int fchown(int fd, int uid, int gid);

    @SaveError
    int fchmodat(int dirfd, String path, int mode, int flags);

    @SaveError
    int fchmod(int fd, int mode);

    @SaveError
    int utimensat(int dirfd, String path, @In long[] times, int flags);

    @SaveError
    int futimens(int fd, @In long[] times);

    @SaveError
    int fstatat(int dirfd, String path, @Out byte[] stat, int flags);

    @SaveError
    int fstatat(int dirfd, @In byte[] path, @Out byte[] stat, int flags);

    @SaveError
    int fstat(int fd, @Out byte[] stat);

    @SaveError
    long readlinkat(int dirfd, String path, @Out byte[] buf, long size);

    @SaveError
    long write(int fd, ByteBuffer buf, long count);

    @SaveError
    long pwrite(int fd, ByteBuffer buf, long count, long offset);

    @SaveError
    long read(int fd, ByteBuffer buf, long count);

    @SaveError
    long read(int fd, @Out byte[] buf, long count);

    @SaveError
    int ftruncate(int fd, long length);

    @SaveError
    int sync_file_range(int fd, long offset, long nbytes, int flags);

    @SaveError
    long copy_file_range(int fdIn, Pointer offIn, int fdOut, Pointer offOut, long len, int flags);

    @SaveError
    int lsetxattr(String path, String name, @In byte[] value, long size, int flags);

    @SaveError
    int fsetxattr(int fd, String name, @In byte[] value, long size, int flags);

    @SaveError
    long lgetxattr(String path, String name, @Out byte[] value, long size);

    @SaveError
    long fgetxattr(int fd, String name, @Out byte[] value, long size);

    @SaveError
    long llistxattr(String path, @Out byte[] list, long size);

    @SaveError
    long flistxattr(int fd, @Out byte[] list, long size);

    String strerror(int errnum);

    /** glibc 2.32+; {@link Errno#name} falls back to a table when the symbol is missing. */
    String strerrorname_np(int errnum);

    LibC INSTANCE = LibraryLoader.create(LibC.class).load("c");

    @SaveError
    int unshare(int flags);

    @SaveError
    int socket(int domain, int type, int protocol);

    /** ioctl(2) whose argument is a structure read and written in place (an {@code ifreq}). */
    @SaveError
    int ioctl(int fd, long request, @In @Out byte[] arg);
}
