package dev.berth.api;

/**
 * An operation on an object that was already closed: Berth's one rule for use after {@code close()}.
 * It is a {@link FailedPreconditionException} (the object's state forbids the call, as containerd reports a
 * closed client or store), so code that handles preconditions handles it too; the message names the object.
 */
public class ClosedException extends FailedPreconditionException {
    private static final long serialVersionUID = 1L;

    /** {@code what} names the closed object, e.g. {@code "content store /var/lib/berth/content"}. */
    public ClosedException(String what) {
        super(what + " is closed");
    }

    public ClosedException(String what, Throwable cause) {
        super(what + " is closed", cause);
    }
}
