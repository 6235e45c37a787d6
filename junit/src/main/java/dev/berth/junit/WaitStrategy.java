package dev.berth.junit;

/**
 * When a started container counts as ready. {@link BerthContainer#start()} polls {@link #isReady} (every
 * 20 to 100 ms) until it returns true, the container's startup timeout passes, or the container's process
 * exits (unless {@link #allowsExit()}); a timeout's message names {@link #description()} and ends with the
 * container's last log lines. Factories are in {@link Wait}; {@link Wait#allOf} composes them.
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
}
