package dev.berth.events;

import java.util.concurrent.TimeUnit;

/**
 * Decides when a repeated warning may be logged again: the first occurrence at once, then at most one line
 * per interval that also says how many occurrences it stands for. Thread-safe.
 */
final class RateLimitedLog {
    private static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private long lastLoggedNanos;
    private boolean loggedOnce;
    private long suppressed;

    /**
     * Records one occurrence; returns -1 if it should not be logged, else how many occurrences were
     * suppressed since the last line (the caller logs them together with this one).
     */
    synchronized long occurrence() {
        long now = System.nanoTime();
        if (loggedOnce && now - lastLoggedNanos < INTERVAL_NANOS) {
            suppressed++;
            return -1;
        }
        loggedOnce = true;
        lastLoggedNanos = now;
        long previouslySuppressed = suppressed;
        suppressed = 0;
        return previouslySuppressed;
    }
}
