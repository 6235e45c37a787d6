package dev.berth.events.journal;

import dev.berth.api.event.Envelope;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls a {@link JournalReader} on a daemon thread (and in {@link #drain()}) and hands the envelopes to a handler,
 * in order.
 */
public final class JournalFollower implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JournalFollower.class);
    /** Polling costs one lock and one stat of the journal per interval. */
    static final long POLL_MILLIS = 20;
    private final JournalReader reader;
    private final String skipWriter;
    private final Consumer<Envelope> handler;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;
    /** Held while polling and handing over: by the follower's thread or by a caller of {@link #drain()}. */
    private final ReentrantLock lock = new ReentrantLock();

    private JournalFollower(JournalReader reader, String skipWriter, Consumer<Envelope> handler) {
        this.reader = reader;
        this.skipWriter = skipWriter;
        this.handler = handler;
        this.thread = new Thread(this::run, "berth-journal-follower");
        thread.setDaemon(true);
    }

    static JournalFollower start(JournalReader reader, String skipWriter, Consumer<Envelope> handler) {
        JournalFollower f = new JournalFollower(reader, skipWriter, handler);
        f.thread.start();
        return f;
    }

    private void run() {
        try {
            do {
                drain();
            } while (!stop.await(POLL_MILLIS, TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.lock();
            try {
                reader.close();
            } catch (java.io.IOException ignored) {
                // read-only
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Hands over, on the calling thread, what was appended since the last poll, before it returns: a process
     * that delivers an event of its own right after this sees every event other processes appended before
     * it, in journal order (a shim's {@code /tasks/create} forwarded here comes after the {@code
     * /containers/create} another process journaled before it made the task). Does nothing when called from
     * the handler, or once closed.
     */
    public void drain() {
        if (lock.isHeldByCurrentThread()) {
            return;
        }
        lock.lock();
        try {
            if (stop.getCount() == 0 && Thread.currentThread() != thread) {
                return;
            }
            for (JournalCodec.Entry e : reader.poll()) {
                if (skipWriter == null || !skipWriter.equals(e.writer())) {
                    try {
                        handler.accept(e.envelope());
                    } catch (RuntimeException ex) {
                        log.warn("journal handler failed on {}: {}", e.envelope().topic(), ex.toString());
                    }
                }
            }
        } catch (java.nio.channels.ClosedByInterruptException e) {
            // this thread was interrupted as it read (its process closing, typically); the reader reopens
            log.debug("reading the event journal was interrupted: {}", e.toString());
        } catch (java.io.IOException e) {
            log.warn("cannot read the event journal: {}", e.toString());
        } finally {
            lock.unlock();
        }
    }

    /** Stops following; returns once the thread is gone (unless called from the handler). */
    @Override
    public void close() {
        stop.countDown();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
