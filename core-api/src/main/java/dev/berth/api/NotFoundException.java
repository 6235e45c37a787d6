package dev.berth.api;

/** The requested object does not exist (containerd's {@code ErrNotFound}). */
public class NotFoundException extends BerthException {
    private static final long serialVersionUID = 1L;

    public NotFoundException(String message) {
        super(message);
    }

    public NotFoundException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int grpcCode() {
        return StatusCode.NOT_FOUND.code();
    }
}
