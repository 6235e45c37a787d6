package dev.berth.runtime.internal;

import java.io.IOException;
import java.nio.file.Path;
import jnr.ffi.LibraryLoader;

/** The few libc calls the JDK lacks: mkfifo and umount2. */
public final class Posix {
    /** umount2 flag: detach now, finish when no longer busy. */
    public static final int MNT_DETACH = 2;

    public interface LibC {
        int mkfifo(String path, int mode);

        int umount2(String target, int flags);

        String strerror(int errnum);
    }

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private static final jnr.ffi.Runtime RUNTIME = jnr.ffi.Runtime.getRuntime(LIBC);

    private Posix() {
    }

    /** Creates a FIFO at {@code path} with {@code mode} (before umask). */
    public static void mkfifo(Path path, int mode) throws IOException {
        if (LIBC.mkfifo(path.toString(), mode) != 0) {
            throw new IOException("mkfifo " + path + ": " + lastError());
        }
    }

    /** Unmounts {@code target}. */
    public static void umount(Path target, int flags) throws IOException {
        if (LIBC.umount2(target.toString(), flags) != 0) {
            throw new IOException("umount " + target + ": " + lastError());
        }
    }

    private static String lastError() {
        int errno = RUNTIME.getLastError();
        return LIBC.strerror(errno) + " (errno " + errno + ")";
    }
}
