package dev.berth;

import dev.berth.api.InvalidArgumentException;
import java.time.Duration;
import java.util.Objects;

/**
 * When garbage collection runs by itself, with containerd's scheduler knobs. A collection is due after
 * {@code deletionThreshold} deletions (0: after any deletion, once the pause budget allows) or
 * {@code mutationThreshold} other changes; it then waits {@code scheduleDelay}, and never starts so soon
 * that collections take more than {@code pauseThreshold} of the time. {@code startupDelay} is when the
 * first collection runs after opening (null: none).
 */
public record GcPolicy(boolean enabled, double pauseThreshold, int deletionThreshold, int mutationThreshold,
                       Duration scheduleDelay, Duration startupDelay) {
    public GcPolicy {
        Objects.requireNonNull(scheduleDelay, "scheduleDelay");
        if (!(pauseThreshold > 0 && pauseThreshold <= 0.5)) {
            throw new InvalidArgumentException("GC pauseThreshold must be in (0, 0.5], got " + pauseThreshold);
        }
        if (deletionThreshold < 0 || mutationThreshold < 0) {
            throw new InvalidArgumentException("GC thresholds must not be negative: deletionThreshold="
                    + deletionThreshold + ", mutationThreshold=" + mutationThreshold);
        }
        if (scheduleDelay.isNegative() || (startupDelay != null && startupDelay.isNegative())) {
            throw new InvalidArgumentException("GC delays must not be negative");
        }
    }

    /** containerd's defaults: 0.02 pause, deletion threshold 0, 100 mutations, no delay, start after 100 ms. */
    public static GcPolicy defaults() {
        return new GcPolicy(true, 0.02, 0, 100, Duration.ZERO, Duration.ofMillis(100));
    }

    /** No background collection: only explicit {@code gc()} calls and synchronous lease deletes. */
    public static GcPolicy manual() {
        return new GcPolicy(false, 0.02, 0, 100, Duration.ZERO, null);
    }
}
