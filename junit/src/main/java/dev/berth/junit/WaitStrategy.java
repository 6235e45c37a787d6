package dev.berth.junit;

/**
 * When a started container counts as ready. {@link BerthContainer#start()} polls {@link #isReady} (at the
 * strategy's {@link #pollInterval()}) until it returns true, the container's startup timeout passes, or the
 * container's process exits (unless {@link #allowsExit()}); a timeout's message names {@link #description()}
 * and ends with the container's last log lines. Factories are in {@link Wait}; {@link Wait#allOf} composes them.
 */
public interface WaitStrategy {

    /**
     * Whether the container is ready now. Called repeatedly, so it must be quick; it may throw
     * {@link ContainerLaunchException} to fail the start at once (e.g. an unexpected exit code).
     */
    boolean isReady(BerthContainer<?> container) throws Exception;

    /** What is waited for, for messages: "log line matching 'ready' 2 times". */
    String description();

    /** Whether the container's process may exit before this is ready (waiting for an exit code). */
    default boolean allowsExit() {
        return false;
    }

    /**
     * The longest pause between two checks. The default, 100 ms, suits a check that costs something (a
     * process started in the container, a request); the pauses start at 20 ms and double up to it. A check
     * that only reads memory or a file (a log line, {@code /proc/<pid>/net/tcp}, an exit status) returns a few
     * milliseconds and is polled at that constant cadence, so readiness is seen within that much of happening.
     */
    default java.time.Duration pollInterval() {
        return java.time.Duration.ofMillis(100);
    }
}
