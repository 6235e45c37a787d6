package dev.berth.events;

import dev.berth.api.ClosedException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.Event;
import dev.berth.api.event.Events;
import dev.berth.api.event.Subscription;
import dev.berth.api.filter.Filter;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Berth's in-process event exchange: containerd's exchange as a Java object.
 *
 * <pre>{@code
 * try (EventExchange events = EventExchange.create();
 *      Subscription exits = events.subscribe(e -> onExit(e), "topic==\"/tasks/exit\",namespace==default")) {
 *     events.publish("default", new TaskEvent.Exit("web", "web", 42, 0, Instant.now()));
 * }
 * }</pre>
 *
 * <h2>Delivery</h2>
 * {@link #publish} and {@link #forward} validate the envelope, evaluate each subscriber's filter on the
 * calling thread and append the envelope to the queue of every subscriber it matches; they never wait for a
 * handler. Each subscription delivers from its own queue, in order, one envelope at a time: on a dedicated
 * thread made by the exchange's thread factory, or as tasks on the executor it was given (never two at
 * once, so the executor may be shared). Consequently every subscriber sees the envelopes of one publishing
 * thread in the order they were published; envelopes from different threads interleave in the order
 * their appends happened. A handler that throws is logged (rate-limited) and keeps receiving. There is no
 * persistence and no replay.
 *
 * <h2>Memory bound</h2>
 * Each subscription holds at most {@link Builder#queueBound(int) queueBound} (default
 * {@value #DEFAULT_QUEUE_BOUND}) undelivered envelopes, plus up to 64 its delivery side has already taken
 * from the queue. When a new envelope arrives at a full queue, the <em>oldest</em> queued envelope is
 * discarded to make room and counted in {@link Subscription#dropped()}, with a warning logged at most once
 * per 10 seconds per subscription. Envelopes on {@code /tasks/exit}, {@code /tasks/oom} and
 * {@code /tasks/delete} are never discarded: they are always queued, do not count towards the bound and
 * never evict other envelopes, so beyond the bound they accumulate only as fast as tasks end.
 * {@link Subscription#queueDepth()} shows how far behind a subscriber is.
 *
 * <h2>Closing</h2>
 * Closing a subscription drops its queue and stops delivery: once {@code close()} returns no further handler
 * call starts, though one already under way finishes. {@link #close()} closes every subscription, waits up to
 * one second for idle delivery threads to end (a thread still inside a handler ends when the handler
 * returns) and makes later {@code subscribe} calls fail; later publishes are validated and then discarded.
 *
 * <p>Instances are thread-safe. Subscriptions may be opened and closed from any thread, including from a
 * handler.
 */
public final class EventExchange implements Events {
    /** The default per-subscription bound on queued envelopes. */
    public static final int DEFAULT_QUEUE_BOUND = 65_536;

    private static final Logger LOG = LoggerFactory.getLogger(EventExchange.class);
    private static final QueuedSubscription[] NONE = new QueuedSubscription[0];
    private static final long CLOSE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final int queueBound;
    private final ThreadFactory threadFactory;
    private final Clock clock;
    private final AtomicInteger subscriptionNumbers = new AtomicInteger();

    private final Object membership = new Object();
    // Replaced as a whole under membership; publishers read it without locking.
    private volatile QueuedSubscription[] subscribers = NONE;
    private volatile boolean closed;

    private EventExchange(Builder builder) {
        this.queueBound = builder.queueBound;
        this.clock = builder.clock;
        this.threadFactory = builder.threadFactory != null
                ? builder.threadFactory
                : new DaemonThreadFactory(builder.threadNamePrefix == null ? "berth-events" : builder.threadNamePrefix);
    }

    /** An exchange with the defaults: bound {@value #DEFAULT_QUEUE_BOUND}, daemon threads, the UTC clock. */
    public static EventExchange create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * {@inheritDoc}
     *
     * @throws InvalidArgumentException if the namespace is not an identifier or the topic is not
     *         {@code /}-separated identifiers (the message names the bad value)
     */
    @Override
    public void publish(String namespace, String topic, Event event) {
        Objects.requireNonNull(event, "event");
        Topics.validateNamespace(namespace);
        Topics.validateTopic(topic);
        dispatch(new Envelope(clock.instant(), namespace, topic, event));
    }

    /**
     * {@inheritDoc}
     *
     * @throws InvalidArgumentException if the envelope's namespace or topic is malformed
     */
    @Override
    public void forward(Envelope envelope) {
        Objects.requireNonNull(envelope, "envelope");
        Topics.validateNamespace(envelope.namespace());
        Topics.validateTopic(envelope.topic());
        dispatch(envelope);
    }

    private void dispatch(Envelope envelope) {
        QueuedSubscription[] current = subscribers;
        if (current.length == 0) {
            return;
        }
        boolean critical = Topics.isCritical(envelope.topic());
        for (QueuedSubscription subscriber : current) {
            subscriber.offer(envelope, critical);
        }
    }

    /**
     * {@inheritDoc}
     *
     * @param filters filter strings, ORed; none means every envelope
     * @throws InvalidArgumentException if a filter does not parse
     * @throws ClosedException if the exchange is closed
     */
    @Override
    public Subscription subscribe(Consumer<Envelope> handler, String... filters) {
        QueuedSubscription subscription = register(handler, null, filters);
        try {
            subscription.startDeliveryThread(threadFactory);
        } catch (RuntimeException | Error e) {
            subscription.close();
            throw e;
        }
        return subscription;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The executor should not run tasks on the calling thread, or publishers would run this handler.
     * If it rejects a task, the envelopes stay queued (subject to the bound) and delivery is retried on the
     * next publish.
     *
     * @param filters filter strings, ORed; none means every envelope
     * @throws InvalidArgumentException if a filter does not parse
     * @throws ClosedException if the exchange is closed
     */
    @Override
    public Subscription subscribe(Executor executor, Consumer<Envelope> handler, String... filters) {
        Objects.requireNonNull(executor, "executor");
        return register(handler, executor, filters);
    }

    private QueuedSubscription register(Consumer<Envelope> handler, Executor executor, String[] filters) {
        Objects.requireNonNull(handler, "handler");
        List<String> filterList = filters == null ? List.of() : List.of(filters);
        Filter filter = filterList.isEmpty() ? null : Filter.parse(filterList);
        String name = "events subscription #" + subscriptionNumbers.incrementAndGet()
                + (filterList.isEmpty() ? "" : " " + filterList);
        QueuedSubscription subscription =
                new QueuedSubscription(name, filter, handler, queueBound, executor, this::unregister);
        synchronized (membership) {
            if (closed) {
                throw new ClosedException("event exchange");
            }
            QueuedSubscription[] grown = Arrays.copyOf(subscribers, subscribers.length + 1);
            grown[grown.length - 1] = subscription;
            subscribers = grown;
        }
        return subscription;
    }

    private void unregister(QueuedSubscription subscription) {
        synchronized (membership) {
            List<QueuedSubscription> remaining = new ArrayList<>(Arrays.asList(subscribers));
            if (remaining.remove(subscription)) {
                subscribers = remaining.toArray(NONE);
            }
        }
    }

    /** The number of open subscriptions. */
    public int subscriptionCount() {
        return subscribers.length;
    }

    /** Closes every subscription and stops their delivery threads. Idempotent. */
    @Override
    public void close() {
        QueuedSubscription[] all;
        synchronized (membership) {
            if (closed) {
                return;
            }
            closed = true;
            all = subscribers;
            subscribers = NONE;
        }
        for (QueuedSubscription subscription : all) {
            subscription.stop();
        }
        long deadline = System.nanoTime() + CLOSE_WAIT_NANOS;
        try {
            for (QueuedSubscription subscription : all) {
                if (!subscription.awaitDeliveryThread(deadline)) {
                    LOG.warn("{}: its handler is still running after the exchange closed; its thread ends "
                            + "when the handler returns", subscription);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Options for an {@link EventExchange}; each is checked when set. */
    public static final class Builder {
        private int queueBound = DEFAULT_QUEUE_BOUND;
        private ThreadFactory threadFactory;
        private String threadNamePrefix;
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /**
         * The most envelopes (other than {@code /tasks/exit}, {@code /tasks/oom}, {@code /tasks/delete})
         * one subscription may hold undelivered before the oldest are dropped. Default
         * {@value EventExchange#DEFAULT_QUEUE_BOUND}.
         */
        public Builder queueBound(int queueBound) {
            if (queueBound < 1) {
                throw new InvalidArgumentException("queueBound must be at least 1, was " + queueBound);
            }
            this.queueBound = queueBound;
            return this;
        }

        /**
         * Makes the delivery threads of subscriptions opened without an executor. Default: daemon threads
         * named {@code berth-events-<n>}. Not combinable with {@link #threadNamePrefix}.
         */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
            return this;
        }

        /** The name prefix of the default factory's daemon threads ({@code <prefix>-<n>}). Default {@code berth-events}. */
        public Builder threadNamePrefix(String threadNamePrefix) {
            Objects.requireNonNull(threadNamePrefix, "threadNamePrefix");
            if (threadNamePrefix.isBlank()) {
                throw new InvalidArgumentException("threadNamePrefix must not be blank");
            }
            this.threadNamePrefix = threadNamePrefix;
            return this;
        }

        /** Stamps envelopes made by {@link EventExchange#publish}. Default {@link Clock#systemUTC()}. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @throws InvalidArgumentException if both a thread factory and a thread name prefix were set
         */
        public EventExchange build() {
            if (threadFactory != null && threadNamePrefix != null) {
                throw new InvalidArgumentException(
                        "set either threadFactory or threadNamePrefix, not both: the prefix names the default factory's threads");
            }
            return new EventExchange(this);
        }
    }

    private static final class DaemonThreadFactory implements ThreadFactory {
        private final String prefix;
        private final AtomicInteger count = new AtomicInteger();

        DaemonThreadFactory(String prefix) {
            this.prefix = prefix;
        }

        @Override
        public Thread newThread(Runnable task) {
            Thread thread = new Thread(task, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        }
    }
}
