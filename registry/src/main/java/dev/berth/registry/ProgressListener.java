package dev.berth.registry;

import dev.berth.api.Descriptor;

/**
 * Observes a pull or push. Every method has a no-op default, so a listener implements only what it
 * shows. Calls come from the transfer threads (several blobs move at once, so calls for different blobs
 * may arrive concurrently), never while the client holds a lock; a listener must be thread-safe and
 * quick. {@link #blobProgress} is throttled to about ten calls a second per blob, plus one at the end.
 */
public interface ProgressListener {

    /** A listener that ignores everything. */
    ProgressListener NONE = new ProgressListener() {
    };

    /** {@code reference} resolved to {@code target} (the descriptor of an index or manifest). */
    default void resolved(String reference, Descriptor target) {
    }

    /**
     * A blob transfer starts. {@code resumedAt} is the number of bytes an earlier, interrupted attempt
     * already stored (0 for a fresh start). Called again for every retry of the same blob: a pull resumes
     * from what it kept, a push starts the upload over from 0; {@link #blobProgress} then counts from
     * {@code resumedAt}, so a listener that sums bytes resets the blob's count here.
     */
    default void blobStarted(Descriptor blob, long resumedAt) {
    }

    /** {@code bytesDone} of {@code blob.size()} bytes have moved so far (counting resumed bytes). */
    default void blobProgress(Descriptor blob, long bytesDone) {
    }

    /** All bytes of the blob have moved; for a pull they are not yet verified. */
    default void blobDone(Descriptor blob) {
    }

    /**
     * A pulled blob's size and digest were checked and it is committed to the content store, or a pushed
     * blob is accepted by the registry.
     */
    default void blobVerified(Descriptor blob) {
    }

    /** The blob was already there (in the content store on pull, in the registry on push) and was skipped. */
    default void blobSkipped(Descriptor blob) {
    }

    /** The unpacker applied a layer. */
    default void layerUnpacked(Descriptor layer) {
    }

    /** The whole pull or push of {@code reference} finished successfully. */
    default void done(String reference, Descriptor target) {
    }
}
