package dev.berth.snapshot.archive;

import dev.berth.api.FailedPreconditionException;

/**
 * The layer exceeded a limit configured on the {@link LayerApplier}: its uncompressed size, or its
 * compression ratio (a decompression bomb).
 */
public class LayerLimitExceededException extends FailedPreconditionException {
    private static final long serialVersionUID = 1L;

    public LayerLimitExceededException(String message) {
        super(message);
    }

    public LayerLimitExceededException(String message, Throwable cause) {
        super(message, cause);
    }
}
