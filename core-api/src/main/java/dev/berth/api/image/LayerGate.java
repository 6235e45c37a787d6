package dev.berth.api.image;

import dev.berth.api.Descriptor;

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
}
