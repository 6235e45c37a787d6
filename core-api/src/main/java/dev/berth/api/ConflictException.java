package dev.berth.api;

/** A concurrent change conflicted with this one (containerd's {@code ErrConflict}). */
public class ConflictException extends BerthException {
    private static final long serialVersionUID = 1L;

    public ConflictException(String message) {
        super(message);
    }

    public ConflictException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int grpcCode() {
        return StatusCode.ABORTED.code();
    }
}
