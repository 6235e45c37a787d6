package dev.berth.api;

/**
 * Root of every error Berth raises. The subclasses mirror containerd's {@code errdefs} so code that
 * handles containerd errors maps one to one, and each carries the gRPC status code used on the wire
 * (ttrpc responses from shims, the CRI plugin).
 *
 * <p>Unchecked: callers handle the kinds they expect ({@link NotFoundException} is usually one) and let
 * the rest propagate.
 *
 * <p>The contract every Berth module keeps:
 * <ul>
 *   <li>Every failure a caller can see is a {@code BerthException}; one that comes from below (an
 *       {@link java.io.IOException}, an {@code SQLException}, a shim's error) is its cause.</li>
 *   <li>File and device failures are {@link IoFailureException} (gRPC {@code UNKNOWN}, as containerd
 *       reports an unclassified error); an unreachable or busy peer (registry, shim) is
 *       {@link UnavailableException}.</li>
 *   <li>Calling an object after its {@code close()} throws {@link ClosedException}, a
 *       {@link FailedPreconditionException} naming the object. {@code close()} itself is idempotent.</li>
 *   <li>The only exceptions outside this hierarchy are programming errors the JDK names: a null argument
 *       ({@link NullPointerException} naming the parameter) and {@link InterruptedException} where a method
 *       blocks and declares it.</li>
 * </ul>
 */
public class BerthException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BerthException(String message) {
        super(message);
    }

    public BerthException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The gRPC status code of this kind of error (2 = UNKNOWN for the base class). */
    public int grpcCode() {
        return StatusCode.UNKNOWN.code();
    }

    /**
     * Maps a gRPC status code and message, as received from a shim or another containerd peer, back to
     * the typed exception containerd's {@code errdefs.FromGRPC} would give.
     */
    public static BerthException fromStatus(int code, String message) {
        return switch (StatusCode.of(code)) {
            case NOT_FOUND -> new NotFoundException(message);
            case ALREADY_EXISTS -> new AlreadyExistsException(message);
            case INVALID_ARGUMENT -> new InvalidArgumentException(message);
            case FAILED_PRECONDITION -> new FailedPreconditionException(message);
            case UNAVAILABLE -> new UnavailableException(message);
            case UNIMPLEMENTED -> new NotImplementedException(message);
            case ABORTED -> new ConflictException(message);
            case CANCELLED -> new CanceledException(message);
            case DEADLINE_EXCEEDED -> new DeadlineExceededException(message);
            default -> new BerthException(message);
        };
    }
}
