package dev.berth.api;

/** The object already exists (containerd's {@code ErrAlreadyExists}); for content this often means success. */
public class AlreadyExistsException extends BerthException {
    private static final long serialVersionUID = 1L;

    public AlreadyExistsException(String message) {
        super(message);
    }

    public AlreadyExistsException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int grpcCode() {
        return StatusCode.ALREADY_EXISTS.code();
    }
}
