package dev.berth.api;

/** The object is not in a state that allows the operation (containerd's {@code ErrFailedPrecondition}). */
public class FailedPreconditionException extends BerthException {
    private static final long serialVersionUID = 1L;

    public FailedPreconditionException(String message) {
        super(message);
    }

    public FailedPreconditionException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int grpcCode() {
        return StatusCode.FAILED_PRECONDITION.code();
    }
}
