package dev.berth.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;

/**
 * A file or device operation failed (disk full, read-only or removed directory, permission, I/O error); the
 * {@link IOException} is the cause. containerd's {@code errdefs} has no kind for this: such errors reach
 * its clients unclassified, as gRPC {@code UNKNOWN}, and so does this one. Unlike
 * {@link UnavailableException} it says nothing about whether a retry may succeed.
 */
public class IoFailureException extends BerthException {
    private static final long serialVersionUID = 1L;

    public IoFailureException(String message, IOException cause) {
        super(message, cause);
    }

    /**
     * {@code what}, then what went wrong: {@code "cannot create /x: AccessDeniedException: /x"} (a file
     * system exception's message is often just the path, so its kind is named too).
     */
    public static IoFailureException of(String what, IOException cause) {
        String why = cause.getMessage() == null || cause instanceof FileSystemException
                ? cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage())
                : cause.getMessage();
        return new IoFailureException(what + ": " + why, cause);
    }

    /** Wraps the {@link IOException} inside {@code e}. */
    public static IoFailureException of(String what, UncheckedIOException e) {
        return of(what, e.getCause());
    }
}
