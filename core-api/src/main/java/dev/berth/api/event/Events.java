package dev.berth.api.event;

import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * The event exchange: containerd's {@code events.Publisher}, {@code Forwarder} and {@code Subscriber}
 * in one service.
 *
 * <p>Publishing never blocks on subscribers: each subscription has its own ordered queue and delivers on
 * its own thread (or the executor it was given, one event at a time). Every subscriber sees the events
 * of one publishing thread in the order they were published. A handler that throws is logged and keeps
 * receiving. There is no persistence or replay: a subscriber sees what is published while it is
 * subscribed. Filters use the {@link dev.berth.api.filter.Filter} language over {@code topic},
 * {@code namespace} and {@code event.<field>}.
 */
public interface Events extends AutoCloseable {

    /**
     * Publishes {@code event} on {@code topic} in {@code namespace}, stamped now.
     *
     * @throws dev.berth.api.InvalidArgumentException if the topic or namespace is malformed
     */
    void publish(String namespace, String topic, Event event);

    /** Publishes {@code event} on its own {@link Event#topic()}. */
    default void publish(String namespace, Event event) {
        publish(namespace, event.topic(), event);
    }

    /** Forwards an envelope that already has its timestamp (an event from a shim). */
    void forward(Envelope envelope);

    /** Subscribes with a dedicated delivery thread. */
    Subscription subscribe(Consumer<Envelope> handler, String... filters);

    /** Subscribes, delivering on {@code executor} one envelope at a time, in order. */
    Subscription subscribe(Executor executor, Consumer<Envelope> handler, String... filters);

    /** Stops every subscription. Idempotent. */
    @Override
    void close();
}
