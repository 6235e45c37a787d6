package dev.berth.api;

/** The caller passed a malformed value; the message names it (containerd's {@code ErrInvalidArgument}). */
public class InvalidArgumentException extends BerthException {
    private static final long serialVersionUID = 1L;

    public InvalidArgumentException(String message) {
        super(message);
    }

    public InvalidArgumentException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int grpcCode() {
        return StatusCode.INVALID_ARGUMENT.code();
    }
}
