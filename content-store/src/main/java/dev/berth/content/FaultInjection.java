package dev.berth.content;

/**
 * Crash points for the fault tests: a JVM started with {@code -Dberth.content.haltAt=<point>} halts
 * (no shutdown hooks, no finally blocks, like SIGKILL) when it reaches that point. Unset in normal use.
 */
final class FaultInjection {
    static final String PROPERTY = "berth.content.haltAt";
    /** Data fsynced and checked, blob not yet linked into {@code blobs/}. */
    static final String COMMIT_BEFORE_LINK = "commit-before-link";
    /** Blob linked into {@code blobs/}, ingest directory not yet removed. */
    static final String COMMIT_AFTER_LINK = "commit-after-link";
    static final int HALT_STATUS = 86;

    private FaultInjection() {
    }

    static void point(String name) {
        if (name.equals(System.getProperty(PROPERTY))) {
            Runtime.getRuntime().halt(HALT_STATUS);
        }
    }
}
