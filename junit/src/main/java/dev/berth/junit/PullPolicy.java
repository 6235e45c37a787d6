package dev.berth.junit;

/** When a registry image is pulled. */
public enum PullPolicy {
    /** Pull only if no image of that name is in the root (the default). */
    IF_MISSING,
    /** Pull before each first use in a JVM, so a moved tag is followed. */
    ALWAYS,
    /** Never pull: the image must have been imported or pulled before. */
    NEVER
}
