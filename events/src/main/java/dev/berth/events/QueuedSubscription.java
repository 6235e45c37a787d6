package dev.berth.events;

import dev.berth.api.event.Envelope;
import dev.berth.api.event.Subscription;
import dev.berth.api.filter.Filter;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscriber: its filter, its ordered queue and its delivery, either on a dedicated thread
 * ({@link #runDedicated()}) or as a chain of drain tasks on an executor, never more than one at a time.
 *
 * <p>Publishers call {@link #offer} and never wait for delivery: the only lock they take is this queue's,
 * held for an append. Envelopes are delivered in the order they were appended, so the order in which one
 * thread published is the order every subscriber sees.
 */
final class QueuedSubscription implements Subscription {
    private static final Logger LOG = LoggerFactory.getLogger(QueuedSubscription.class);

    /** Envelopes the delivery side takes per lock acquisition (and per executor task). */
    static final int BATCH = 64;

    /**
     * How often an idle delivery thread yields, watching for more envelopes, before it parks. Waking a
     * parked thread costs the publisher a futex call per envelope; under a burst, a short yield loop lets
     * the queue refill so the thread takes whole batches instead.
     */
    private static final int YIELDS_BEFORE_PARKING = 32;

    private final String name;
    private final Filter filter;
    private final boolean matchesAll;
    private final Consumer<Envelope> handler;
    private final int bound;
    private final Executor executor;
    private final Consumer<QueuedSubscription> onClose;
    private final RateLimitedLog dropLog = new RateLimitedLog();
    private final RateLimitedLog failureLog = new RateLimitedLog();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition available = lock.newCondition();
    // Guarded by lock.
    private final ArrayDeque<Envelope> queue = new ArrayDeque<>();
    private int queuedNonCritical;
    private boolean consumerWaiting;
    private boolean drainScheduled;
    private Thread deliveryThread;

    // Written under lock, read without it.
    private volatile boolean closed;
    private volatile long dropped;
    // Taken from the queue by the delivery side and not yet handed to the handler; written by it only.
    private volatile int inFlight;
    // queue.size(), readable without the lock.
    private volatile int queued;

    // Used only by the one delivery loop or drain task running at a time (published to the next via lock).
    private final Envelope[] batch = new Envelope[BATCH];

    QueuedSubscription(String name, Filter filter, Consumer<Envelope> handler, int bound, Executor executor,
                       Consumer<QueuedSubscription> onClose) {
        this.name = name;
        this.filter = filter;
        this.matchesAll = filter == null;
        this.handler = handler;
        this.bound = bound;
        this.executor = executor;
        this.onClose = onClose;
    }

    /** Queues {@code envelope} if it passes the filter. Never blocks on delivery. */
    void offer(Envelope envelope, boolean critical) {
        if (closed || !passes(envelope)) {
            return;
        }
        boolean droppedOne = false;
        boolean scheduleDrain = false;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            if (!critical) {
                if (queuedNonCritical >= bound) {
                    removeOldestNonCritical();
                    dropped++;
                    droppedOne = true;
                } else {
                    queuedNonCritical++;
                }
            }
            queue.addLast(envelope);
            queued = queue.size();
            if (executor == null) {
                if (consumerWaiting) {
                    available.signal();
                }
            } else if (!drainScheduled) {
                drainScheduled = true;
                scheduleDrain = true;
            }
        } finally {
            lock.unlock();
        }
        if (droppedOne) {
            warnDropped();
        }
        if (scheduleDrain) {
            scheduleDrain();
        }
    }

    private boolean passes(Envelope envelope) {
        if (matchesAll) {
            return true;
        }
        try {
            return filter.matches(EnvelopeFields.of(envelope));
        } catch (RuntimeException e) {
            // A filter bug must not break the publisher; this subscriber just does not see the envelope.
            long suppressed = failureLog.occurrence();
            if (suppressed >= 0) {
                LOG.error("{}: filter failed on {}{}", name, envelope.topic(), alsoSuppressed(suppressed), e);
            }
            return false;
        }
    }

    private void removeOldestNonCritical() {
        if (!Topics.isCritical(queue.peekFirst().topic())) {
            queue.pollFirst();
            return;
        }
        for (Iterator<Envelope> it = queue.iterator(); it.hasNext(); ) {
            if (!Topics.isCritical(it.next().topic())) {
                it.remove();
                return;
            }
        }
    }

    private void warnDropped() {
        long suppressed = dropLog.occurrence();
        if (suppressed >= 0) {
            LOG.warn("{} is not keeping up: dropped {} oldest queued envelope(s) past its bound of {} "
                    + "({} dropped in total; /tasks/exit, /tasks/oom and /tasks/delete are never dropped)",
                    name, suppressed + 1, bound, dropped);
        }
    }

    /** Starts the dedicated delivery thread; for subscriptions made without an executor. */
    void startDeliveryThread(ThreadFactory threadFactory) {
        Thread thread = threadFactory.newThread(this::runDedicated);
        if (thread == null) {
            throw new IllegalStateException("the event exchange's thread factory returned no thread for " + name);
        }
        lock.lock();
        try {
            deliveryThread = thread;
        } finally {
            lock.unlock();
        }
        thread.start();
    }

    private void runDedicated() {
        while (true) {
            int n;
            lock.lock();
            try {
                while (queue.isEmpty() && !closed) {
                    consumerWaiting = true;
                    available.awaitUninterruptibly();
                    consumerWaiting = false;
                }
                if (closed) {
                    return;
                }
                n = take();
            } finally {
                lock.unlock();
            }
            deliver(n);
            // Nothing but close() signals this thread; an interrupt left by a handler must not reach the next one.
            Thread.interrupted();
            for (int i = 0; i < YIELDS_BEFORE_PARKING && queued == 0 && !closed; i++) {
                Thread.yield();
            }
        }
    }

    private void scheduleDrain() {
        try {
            executor.execute(this::drainOnce);
        } catch (RejectedExecutionException e) {
            lock.lock();
            try {
                drainScheduled = false;
            } finally {
                lock.unlock();
            }
            long suppressed = failureLog.occurrence();
            if (suppressed >= 0) {
                LOG.error("{}: its executor rejected delivery; envelopes stay queued until it accepts a task{}",
                        name, alsoSuppressed(suppressed), e);
            }
        }
    }

    /** One executor task: delivers up to {@link #BATCH} envelopes, then yields the executor to others. */
    private void drainOnce() {
        int n;
        lock.lock();
        try {
            n = closed ? 0 : take();
            if (n == 0) {
                drainScheduled = false;
                return;
            }
        } finally {
            lock.unlock();
        }
        deliver(n);
        boolean more;
        lock.lock();
        try {
            more = !closed && !queue.isEmpty();
            if (!more) {
                drainScheduled = false;
            }
        } finally {
            lock.unlock();
        }
        if (more) {
            scheduleDrain();
        }
    }

    /** Moves up to {@link #BATCH} envelopes from the queue into {@link #batch}. Call with the lock held. */
    private int take() {
        int n = Math.min(BATCH, queue.size());
        for (int i = 0; i < n; i++) {
            Envelope envelope = queue.pollFirst();
            if (!Topics.isCritical(envelope.topic())) {
                queuedNonCritical--;
            }
            batch[i] = envelope;
        }
        queued = queue.size();
        inFlight = n;
        return n;
    }

    private void deliver(int n) {
        for (int i = 0; i < n; i++) {
            Envelope envelope = batch[i];
            batch[i] = null;
            if (closed) {
                Arrays.fill(batch, i, n, null);
                inFlight = 0;
                return;
            }
            inFlight = n - i - 1;
            handle(envelope);
        }
    }

    private void handle(Envelope envelope) {
        try {
            handler.accept(envelope);
        } catch (Throwable t) {
            // The subscriber keeps receiving: one bad event must not cost it the /tasks/exit after it.
            long suppressed = failureLog.occurrence();
            if (suppressed >= 0) {
                LOG.error("{}: handler failed on {} in namespace {}; it keeps receiving{}", name,
                        envelope.topic(), envelope.namespace(), alsoSuppressed(suppressed), t);
            }
        }
    }

    private static String alsoSuppressed(long suppressed) {
        return suppressed == 0 ? "" : " (" + suppressed + " more failures since the last report were not logged)";
    }

    @Override
    public int queueDepth() {
        if (closed) {
            return 0;
        }
        lock.lock();
        try {
            return queue.size() + inFlight;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long dropped() {
        return dropped;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (stop()) {
            onClose.accept(this);
        }
    }

    /** Stops delivery and releases the queue; returns false if it was already stopped. */
    boolean stop() {
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            closed = true;
            queue.clear();
            queued = 0;
            queuedNonCritical = 0;
            available.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the dedicated delivery thread has ended, at most until {@code deadlineNanos}. */
    boolean awaitDeliveryThread(long deadlineNanos) throws InterruptedException {
        Thread thread;
        lock.lock();
        try {
            thread = deliveryThread;
        } finally {
            lock.unlock();
        }
        if (thread == null || thread == Thread.currentThread()) {
            return true;
        }
        long remaining = deadlineNanos - System.nanoTime();
        if (remaining > 0) {
            thread.join(Math.max(1, remaining / 1_000_000));
        }
        return !thread.isAlive();
    }

    @Override
    public String toString() {
        return name;
    }
}
