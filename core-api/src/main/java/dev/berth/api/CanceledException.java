package dev.berth.api;

/** The operation was cancelled (containerd's {@code context.Canceled}). */
public class CanceledException extends BerthException {
    private static final long serialVersionUID = 1L;

    public CanceledException(String message) {
        super(message);
    }

    public CanceledException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int grpcCode() {
        return StatusCode.CANCELLED.code();
    }
}
