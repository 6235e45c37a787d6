package dev.berth.junit.internal;

import java.time.Duration;

/**
 * The pauses between a wait strategy's checks: from 20 ms (or its poll interval, if shorter) doubling up to the
 * poll interval; for a cheap strategy (interval of at most {@value #FAST_MAX_INTERVAL_MS} ms: a {@code /proc}
 * read, the log lines) 1 ms during its first {@value #FAST_WINDOW_MS} ms, because a server started a moment ago
 * is usually listening within a few milliseconds and a 5 ms pause would be most of its wait.
 */
public final class WaitPauses {
    /** The system property that turns the 1 ms pauses off ({@code false}): the poll interval from the start. */
    public static final String FAST_PROPERTY = "berth.junit.fastFirstPolls";
    static final long FAST_MAX_INTERVAL_MS = 5;
    static final long FAST_WINDOW_MS = 50;

    private final long maxPause;
    private final long fastUntilNanos;
    private long pause;

    /** For a strategy polled every {@code interval}; {@code fast}: whether the first pauses may be 1 ms. */
    public WaitPauses(Duration interval, boolean fast) {
        maxPause = Math.max(1, interval.toMillis());
        pause = Math.min(20, maxPause);
        fastUntilNanos = fast && maxPause <= FAST_MAX_INTERVAL_MS ? FAST_WINDOW_MS * 1_000_000 : 0;
    }

    /** For a strategy polled every {@code interval}, fast first pauses unless the system property says no. */
    public static WaitPauses forInterval(Duration interval) {
        return new WaitPauses(interval, !"false".equals(System.getProperty(FAST_PROPERTY)));
    }

    /** The pause in ms before the next check, {@code elapsedNanos} after the wait began. */
    public long next(long elapsedNanos) {
        if (elapsedNanos < fastUntilNanos) {
            return 1;
        }
        long p = pause;
        pause = Math.min(maxPause, pause * 2);
        return p;
    }
}
