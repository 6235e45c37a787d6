package dev.berth.events.journal;

import dev.berth.api.event.Envelope;
import dev.berth.api.event.Event;
import dev.berth.api.event.Events;
import dev.berth.api.event.Subscription;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Events shared by the processes on one state directory: what is published or forwarded here reaches this
 * process's subscribers at once (the in-process fast path) and is appended to the {@link EventJournal};
 * what other processes appended is followed from the journal and delivered here as they published it
 * (their timestamps, in journal order). Each envelope reaches each subscriber once.
 */
public final class JournaledEvents implements Events {
    private final Events local;
    private final EventJournal journal;
    private final JournalFollower follower;

    private JournaledEvents(Events local, EventJournal journal) {
        this.local = local;
        this.journal = journal;
        this.follower = journal.follow(Optional.empty(), journal.writerId(), local::forward);
    }

    /** Journals {@code local}'s events in {@code journal} and follows the other writers'; closes both. */
    public static JournaledEvents over(Events local, EventJournal journal) {
        return new JournaledEvents(local, journal);
    }

    public EventJournal journal() {
        return journal;
    }

    @Override
    public void publish(String namespace, String topic, Event event) {
        forward(new Envelope(Instant.now(), namespace, topic, event));
    }

    /**
     * Validated by the local exchange first: what it refuses is not journaled either. What other processes
     * journaled before is delivered here first ({@link JournalFollower#drain()}), so this process's
     * subscribers see each container's events in the order they happened even when they came from several
     * processes (the shim's events reach the process that serves its events socket, not the one that made
     * the task).
     */
    @Override
    public void forward(Envelope envelope) {
        follower.drain();
        local.forward(envelope);
        journal.append(envelope);
    }

    @Override
    public Subscription subscribe(Consumer<Envelope> handler, String... filters) {
        return local.subscribe(handler, filters);
    }

    @Override
    public Subscription subscribe(Executor executor, Consumer<Envelope> handler, String... filters) {
        return local.subscribe(executor, handler, filters);
    }

    @Override
    public void close() {
        follower.close();
        journal.close();
        local.close();
    }
}
