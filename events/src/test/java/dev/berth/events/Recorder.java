package dev.berth.events;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.event.Envelope;
import dev.berth.api.event.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** A handler that keeps what it receives and lets a test wait for a number of deliveries. */
final class Recorder implements Consumer<Envelope> {
    private final List<Envelope> received = new ArrayList<>();

    @Override
    public synchronized void accept(Envelope envelope) {
        received.add(envelope);
        notifyAll();
    }

    synchronized List<Envelope> envelopes() {
        return List.copyOf(received);
    }

    synchronized List<Event> events() {
        return received.stream().map(Envelope::event).toList();
    }

    synchronized List<String> topics() {
        return received.stream().map(Envelope::topic).toList();
    }

    /** Waits (up to a generous limit, only so a broken build ends) until {@code count} envelopes arrived. */
    synchronized Recorder awaitCount(int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (received.size() < count) {
            long left = deadline - System.nanoTime();
            assertThat(left).as("waiting for %d envelopes, have %d", count, received.size()).isPositive();
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return this;
    }
}
