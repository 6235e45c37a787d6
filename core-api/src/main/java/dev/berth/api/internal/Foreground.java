package dev.berth.api.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Latency-critical work in flight and the background refills that should not share the CPU with it. A caller
 * {@link #enter}s while its critical path runs (a test container's start, until its wait has passed); work that
 * only prepares for a later caller (the next spare network namespace) is handed to {@link #defer}, which runs it
 * once nobody is entered, after {@link #MAX_DEFER_MS} at the latest, or at once when someone waits for its result
 * ({@link Deferred#expedite}). JVM-wide, because the machine's cores are shared by every Berth in the JVM.
 * With nobody entered, {@link #defer} runs the work at once: callers that never enter see no change.
 */
public final class Foreground {
    /** The longest a deferred piece of work waits for the entered callers to leave. */
    public static final long MAX_DEFER_MS = 10_000;

    private static final Object LOCK = new Object();
    private static int entered;
    private static final List<Deferred> WAITING = new ArrayList<>();

    private Foreground() {
    }

    /** Marks the start of a critical path; close the hold (idempotent) when it ends. */
    public static Hold enter() {
        synchronized (LOCK) {
            entered++;
        }
        return new Hold();
    }

    /** The number of critical paths entered now (for tests). */
    public static int entered() {
        synchronized (LOCK) {
            return entered;
        }
    }

    /**
     * Runs {@code work} on {@code executor} now if nobody is entered, else once the last hold closes (or after
     * {@link #MAX_DEFER_MS}, or when {@link Deferred#expedite expedited}). If the executor rejects it, it runs
     * on the thread that releases it.
     */
    public static Deferred defer(Executor executor, Runnable work) {
        Deferred d = new Deferred(executor, work);
        boolean now;
        synchronized (LOCK) {
            now = entered == 0;
            if (!now) {
                WAITING.add(d);
            }
        }
        if (now) {
            d.release();
        } else {
            CompletableFuture.delayedExecutor(MAX_DEFER_MS, TimeUnit.MILLISECONDS).execute(d::release);
        }
        return d;
    }

    /** An entered critical path. */
    public static final class Hold implements AutoCloseable {
        private final AtomicBoolean open = new AtomicBoolean(true);

        private Hold() {
        }

        /** Leaves the critical path; deferred work runs once no other hold is open. Idempotent. */
        @Override
        public void close() {
            if (!open.compareAndSet(true, false)) {
                return;
            }
            List<Deferred> due = List.of();
            synchronized (LOCK) {
                entered--;
                if (entered == 0 && !WAITING.isEmpty()) {
                    due = List.copyOf(WAITING);
                    WAITING.clear();
                }
            }
            due.forEach(Deferred::release);
        }
    }

    /** Work handed to {@link #defer}. */
    public static final class Deferred {
        private final Executor executor;
        private final Runnable work;
        private final AtomicBoolean released = new AtomicBoolean();

        private Deferred(Executor executor, Runnable work) {
            this.executor = executor;
            this.work = work;
        }

        /** Whether the work has been handed to its executor. */
        public boolean released() {
            return released.get();
        }

        /** Hands the work to its executor now if it still waits (someone needs its result). */
        public void expedite() {
            release();
        }

        private void release() {
            if (!released.compareAndSet(false, true)) {
                return;
            }
            synchronized (LOCK) {
                WAITING.remove(this);
            }
            try {
                executor.execute(work);
            } catch (RejectedExecutionException e) {
                work.run();
            }
        }
    }
}
