package dev.berth.metadata.internal;

import dev.berth.GcPolicy;
import dev.berth.GcResult;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs garbage collection in the background after deletions and mutations, as containerd's scheduler:
 * due after {@code deletionThreshold} deletions (0: after any) or {@code mutationThreshold} mutations,
 * started {@code scheduleDelay} later, but never so soon after the last run that collecting would take
 * more than {@code pauseThreshold} of the time. One daemon thread; changes made while a collection runs
 * schedule the next one.
 */
final class GcScheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GcScheduler.class);

    private final GcPolicy policy;
    private final Supplier<GcResult> collect;
    private final ScheduledThreadPoolExecutor executor;
    private int deletions;
    private int mutations;
    private boolean scheduled;
    private boolean closed;
    private long lastEnd;
    private long lastDuration;

    GcScheduler(GcPolicy policy, Supplier<GcResult> collect) {
        this.policy = policy;
        this.collect = collect;
        if (!policy.enabled()) {
            executor = null;
            return;
        }
        executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "berth-gc");
            t.setDaemon(true);
            return t;
        });
        if (policy.startupDelay() != null) {
            synchronized (this) {
                scheduled = true;
                executor.schedule(this::run, policy.startupDelay().toNanos(), TimeUnit.NANOSECONDS);
            }
        }
    }

    void deletion() {
        if (executor != null) {
            synchronized (this) {
                deletions++;
                maybeSchedule();
            }
        }
    }

    void mutation() {
        if (executor != null) {
            synchronized (this) {
                mutations++;
                maybeSchedule();
            }
        }
    }

    private void maybeSchedule() {
        if (closed || scheduled) {
            return;
        }
        int dt = policy.deletionThreshold();
        boolean immediate = dt > 0 && deletions >= dt;
        boolean due = immediate || (dt == 0 && deletions > 0)
                || (policy.mutationThreshold() > 0 && mutations >= policy.mutationThreshold());
        if (!due) {
            return;
        }
        long delay = immediate ? 0 : policy.scheduleDelay().toNanos();
        if (!immediate && lastDuration > 0) {
            long earliest = lastEnd + (long) (lastDuration / policy.pauseThreshold());
            delay = Math.max(delay, earliest - System.nanoTime());
        }
        scheduled = true;
        executor.schedule(this::run, Math.max(0, delay), TimeUnit.NANOSECONDS);
    }

    private void run() {
        synchronized (this) {
            if (closed) {
                return;
            }
            deletions = 0;
            mutations = 0;
        }
        long start = System.nanoTime();
        try {
            collect.get();
        } catch (RuntimeException e) {
            LOG.warn("background garbage collection failed: {}", e.toString());
        }
        synchronized (this) {
            lastEnd = System.nanoTime();
            lastDuration = lastEnd - start;
            scheduled = false;
            maybeSchedule();
        }
    }

    /** Stops scheduling and waits for a running collection to finish. Idempotent. */
    @Override
    public void close() {
        if (executor == null) {
            return;
        }
        synchronized (this) {
            closed = true;
        }
        // no interrupt: a collection stops between transactions, never inside a disk operation
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        executor.shutdown();
        try {
            if (!executor.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.warn("garbage collection still running after 60 s at close");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
