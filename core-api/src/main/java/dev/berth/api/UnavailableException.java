package dev.berth.api;

/** The resource is busy or unreachable right now; retrying may succeed (containerd's {@code ErrUnavailable}). */
public class UnavailableException extends BerthException {
    private static final long serialVersionUID = 1L;

    public UnavailableException(String message) {
        super(message);
    }

    public UnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int grpcCode() {
        return StatusCode.UNAVAILABLE.code();
    }
}
