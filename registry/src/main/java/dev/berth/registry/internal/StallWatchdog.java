package dev.berth.registry.internal;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Aborts transfers that stop making progress. Each watched transfer reports progress with
 * {@link Watch#touch()}; one daemon thread checks them a few times per timeout and, for one idle longer
 * than the timeout, marks it stalled and runs its abort action (closing the response stream, which
 * wakes the blocked reader).
 */
public final class StallWatchdog implements AutoCloseable {
    private final Duration timeout;
    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService timer;

    public StallWatchdog(Duration timeout) {
        this.timeout = timeout;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "berth-registry-stall-watchdog");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(10, Math.min(1000, timeout.toMillis() / 4));
        timer.scheduleAtFixedRate(this::check, period, period, TimeUnit.MILLISECONDS);
    }

    Duration timeout() {
        return timeout;
    }

    Watch watch(Runnable abort) {
        Watch w = new Watch(abort);
        watches.add(w);
        return w;
    }

    private void check() {
        long now = System.nanoTime();
        for (Watch w : watches) {
            if (now - w.lastProgress > timeout.toNanos() && !w.stalled) {
                w.stalled = true;
                w.idleNanos = now - w.lastProgress;
                try {
                    w.abort.run();
                } catch (RuntimeException e) {
                    // the reader sees the stall flag either way
                }
            }
        }
    }

    /** One watched transfer. */
    final class Watch implements AutoCloseable {
        private final Runnable abort;
        private volatile long lastProgress = System.nanoTime();
        private volatile boolean stalled;
        private volatile long idleNanos;

        private Watch(Runnable abort) {
            this.abort = abort;
        }

        void touch() {
            lastProgress = System.nanoTime();
        }

        boolean stalled() {
            return stalled;
        }

        Duration idle() {
            return Duration.ofNanos(idleNanos);
        }

        @Override
        public void close() {
            watches.remove(this);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        watches.clear();
    }
}
