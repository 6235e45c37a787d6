package dev.berth.api.event;

/** A live subscription. Closing it stops delivery promptly; events still queued are dropped. */
public interface Subscription extends AutoCloseable {

    /** Envelopes queued for this subscriber and not yet delivered: a slow consumer shows here. */
    int queueDepth();

    /**
     * Envelopes that were discarded because the queue bound was exceeded (never {@code /tasks/exit},
     * {@code /tasks/oom} or {@code /tasks/delete}).
     */
    long dropped();

    boolean isClosed();

    @Override
    void close();
}
