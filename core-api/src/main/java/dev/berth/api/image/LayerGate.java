package dev.berth.api.image;

import dev.berth.api.Descriptor;
import java.io.InputStream;

/**
 * Says when a layer blob may be read during an unpack. A caller that is still fetching an image's
 * layers (a registry pull) passes one to the images module's unpack, so applying layer 0 starts while
 * layer 1 downloads.
 */
@FunctionalInterface
public interface LayerGate {

    /** Every blob is already in the content store. */
    LayerGate OPEN = layer -> {
    };

    /**
     * Returns once {@code layer}'s blob is committed to the content store, or throws what keeps it from
     * ever being there (that failure ends the unpack).
     */
    void await(Descriptor layer) throws InterruptedException;

    /**
     * The bytes of {@code layer}'s blob while it is still arriving, so that an unpack can apply them as
     * they download; null if this gate offers no such stream for the blob (the default, and for a blob
     * that is stored already or a second request for the same blob): then {@link #await} it and read it
     * from the content store. Read it in one thread and close it.
     *
     * <p>The stream reports its end only once the blob has been verified and committed to the content
     * store. It throws an {@link java.io.IOException} if that will not happen, or if the bytes it has
     * returned may not be the ones committed (the download started over); the caller must then discard
     * what it made of them, and {@link #await} says whether the blob arrived after all.
     */
    default InputStream stream(Descriptor layer) throws InterruptedException {
        return null;
    }
}
