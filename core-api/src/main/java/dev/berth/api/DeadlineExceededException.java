package dev.berth.api;

/** The operation's deadline passed (containerd's {@code context.DeadlineExceeded}). */
public class DeadlineExceededException extends BerthException {
    private static final long serialVersionUID = 1L;

    public DeadlineExceededException(String message) {
        super(message);
    }

    public DeadlineExceededException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int grpcCode() {
        return StatusCode.DEADLINE_EXCEEDED.code();
    }
}
