package dev.berth.junit;

/** Something a test starts and stops: a container or a network. {@link #close()} is {@link #stop()}. */
public interface Startable extends AutoCloseable {
    /** Starts it; does nothing if it runs already. */
    void start();

    /** Stops and removes it; idempotent. */
    void stop();

    @Override
    default void close() {
        stop();
    }
}
