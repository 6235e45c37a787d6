package dev.berth.api;

/** The operation is not supported by this implementation (containerd's {@code ErrNotImplemented}). */
public class NotImplementedException extends BerthException {
    private static final long serialVersionUID = 1L;

    public NotImplementedException(String message) {
        super(message);
    }

    public NotImplementedException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int grpcCode() {
        return StatusCode.UNIMPLEMENTED.code();
    }
}
