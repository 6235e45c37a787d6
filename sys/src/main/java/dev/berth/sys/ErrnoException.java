package dev.berth.sys;

import java.nio.file.FileSystemException;

/**
 * A failed system call: carries the errno (number and symbolic name), the call and the path it was
 * given. A {@link FileSystemException} so callers outside Berth see a JDK type.
 */
public final class ErrnoException extends FileSystemException {
    private static final long serialVersionUID = 1L;

    private final int errno;
    private final String syscall;
    private final String description;

    public ErrnoException(String syscall, String path, int errno) {
        this(syscall, path, errno, Errno.describe(errno), null);
    }

    private ErrnoException(String syscall, String path, int errno, String description, String context) {
        super(path, null, syscall + ": " + Errno.name(errno) + " (" + description + ")"
                + (context == null ? "" : " " + context));
        this.errno = errno;
        this.syscall = syscall;
        this.description = description;
    }

    /** This failure with {@code path} as the file it names and {@code context} appended to the reason. */
    public ErrnoException withContext(String path, String context) {
        ErrnoException e = new ErrnoException(syscall, path, errno, description, context);
        e.initCause(this);
        return e;
    }

    public int errno() {
        return errno;
    }

    public String syscall() {
        return syscall;
    }

    /** libc's description of the errno. */
    public String description() {
        return description;
    }

    public boolean is(int code) {
        return errno == code;
    }
}
