package dev.berth.snapshot.internal;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/** The few libc entry points the JDK lacks. Loaded once; every call saves errno. */
public interface LibC {

    @SaveError
    int mount(String source, String target, String fstype, long flags, String data);

    @SaveError
    int umount2(String target, int flags);

    @SaveError
    int lstat(String path, @Out byte[] statBuf);

    @SaveError
    int close(int fd);

    @SaveError
    long read(int fd, @Out byte[] buf, long count);

    /** fsopen(2): {@code syscall(nr, fsname, flags)}. All integer arguments are longs: syscall is variadic. */
    @SaveError
    long syscall(long nr, String a1, long a2);

    /** fsconfig(2): {@code syscall(nr, fd, cmd, key, value, aux)}. */
    @SaveError
    long syscall(long nr, long a1, long a2, String a3, String a4, long a5);

    /** fsmount(2): {@code syscall(nr, fd, flags, attrFlags)}. */
    @SaveError
    long syscall(long nr, long a1, long a2, long a3);

    /** move_mount(2): {@code syscall(nr, fromDirFd, fromPath, toDirFd, toPath, flags)}. */
    @SaveError
    long syscall(long nr, long a1, String a2, long a3, String a4, long a5);

    String strerror(int errnum);

    /** glibc 2.32+; callers fall back to a table when the symbol is missing. */
    String strerrorname_np(int errnum);

    LibC INSTANCE = LibraryLoader.create(LibC.class).load("c");

    static int errno() {
        return Runtime.getRuntime(INSTANCE).getLastError();
    }
}
