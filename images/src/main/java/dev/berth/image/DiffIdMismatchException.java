package dev.berth.image;

import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;

/**
 * Unpacking a layer produced a different uncompressed digest than the image config's
 * {@code rootfs.diff_ids} entry for it (containerd: "wrong diff id calculated on extraction"). The
 * snapshot being extracted is removed.
 */
public class DiffIdMismatchException extends FailedPreconditionException {
    private static final long serialVersionUID = 1L;

    private final Digest layer;
    private final Digest expected;
    private final Digest actual;

    public DiffIdMismatchException(Digest layer, Digest expected, Digest actual) {
        super("wrong diff id calculated on extraction of layer " + layer + ": got " + actual
                + ", the image config says " + expected);
        this.layer = layer;
        this.expected = expected;
        this.actual = actual;
    }

    /** The (compressed) layer blob's digest. */
    public Digest layer() {
        return layer;
    }

    public Digest expected() {
        return expected;
    }

    public Digest actual() {
        return actual;
    }
}
