package dev.berth.snapshot.internal;

/**
 * Test hook: when the system property {@code berth.snapshot.crashAt} names a point, the JVM halts
 * there as abruptly as a SIGKILL would (no shutdown hooks, no finally blocks), so tests can prove
 * that every interruption leaves a recoverable root.
 */
public final class CrashPoints {
    public static final String PROPERTY = "berth.snapshot.crashAt";
    private static final String AT = System.getProperty(PROPERTY, "");

    private CrashPoints() {
    }

    public static void reached(String point) {
        if (!AT.isEmpty() && AT.equals(point)) {
            Runtime.getRuntime().halt(137);
        }
    }
}
