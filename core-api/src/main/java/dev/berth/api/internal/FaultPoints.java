package dev.berth.api.internal;

/**
 * Berth's one fault-injection hook, for crash tests: a JVM started with
 * {@code -Dberth.faultPoint=<point>} halts when it reaches that point, as abruptly as a SIGKILL would
 * (no shutdown hooks, no finally blocks), so a test can prove that every interruption leaves a
 * recoverable state. Unset in normal use, where {@link #reached} costs one string comparison.
 */
public final class FaultPoints {
    public static final String PROPERTY = "berth.faultPoint";
    /** The exit status of a halted JVM (that of a process killed by SIGKILL). */
    public static final int HALT_STATUS = 137;

    private static final String AT = System.getProperty(PROPERTY, "");

    private FaultPoints() {
    }

    /** Halts the JVM if {@code point} is the one named by {@link #PROPERTY}. */
    public static void reached(String point) {
        if (!AT.isEmpty() && AT.equals(point)) {
            Runtime.getRuntime().halt(HALT_STATUS);
        }
    }
}
