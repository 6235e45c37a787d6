package dev.berth.registry;

import dev.berth.api.DeadlineExceededException;
import dev.berth.api.Digest;
import java.time.Duration;

/**
 * A blob transfer made no progress for longer than the client's stall timeout and was aborted. What
 * arrived before the stall stays in the content store's ingest, so the next pull resumes from there.
 */
public class TransferStalledException extends DeadlineExceededException {
    private static final long serialVersionUID = 1L;

    private final transient Digest blob;
    private final Duration stalledFor;

    public TransferStalledException(Digest blob, Duration stalledFor, String message) {
        super(message);
        this.blob = blob;
        this.stalledFor = stalledFor;
    }

    /** The blob that stalled. */
    public Digest blob() {
        return blob;
    }

    /** How long it went without a byte arriving. */
    public Duration stalledFor() {
        return stalledFor;
    }
}
