package dev.berth.runtime.internal;

import dev.berth.api.BerthException;
import dev.berth.api.CanceledException;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.internal.StepTimes;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exit of one process (a task's init or an exec) in two stages: the exit as the shim reports it
 * (the {@code Wait} RPC, a {@code /tasks/exit} event or the shim's delete action, whichever comes first),
 * and the exit once all the process's output is delivered, which is what callers wait for.
 */
final class ExitTracker {
    private static final Logger log = LoggerFactory.getLogger(ExitTracker.class);
    /** How long delivery waits for the output pumps after the exit. */
    static final long DRAIN_TIMEOUT_MS = 5_000;
    private static final int WAIT_RETRIES = 5;

    private final String name;
    /** The caller's step log when the process was created under one (benchmarks), else null. */
    private final StepTimes steps = StepTimes.current();
    private final CompletableFuture<ExitStatus> reported = new CompletableFuture<>();
    private final CompletableFuture<ExitStatus> delivered = new CompletableFuture<>();

    ExitTracker(String name) {
        this.name = name;
    }

    /** Records the exit; the first report wins. Returns whether this one did. */
    boolean exited(ExitStatus status) {
        if (steps != null && !reported.isDone()) {
            StepTimes.markOn(steps, "exit-reported"); // before completing: delivery may mark at once
        }
        return reported.complete(status);
    }

    boolean hasExited() {
        return reported.isDone();
    }

    Optional<ExitStatus> reported() {
        return Optional.ofNullable(reported.getNow(null));
    }

    /** The reported exit, or {@code fallback} if none was. */
    ExitStatus reportedOr(ExitStatus fallback) {
        return reported.getNow(fallback);
    }

    /** Waits up to {@code millis} for the exit to be reported; false if it was not. */
    boolean awaitReported(long millis) throws InterruptedException {
        try {
            reported.get(millis, TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    /**
     * Watches the exit through the {@code Wait} RPC, which the shim answers even when the exit happened
     * while no one listened (an event published to a dead JVM is lost; Wait is not). A Wait that fails while
     * the connection is fine and {@code wanted} holds is sent again, so a waiter never hangs on one error.
     */
    void watch(TaskService api, String execId, Executor retries, BooleanSupplier wanted) {
        watch(api, execId, retries, wanted, 0);
    }

    private void watch(TaskService api, String execId, Executor retries, BooleanSupplier wanted, int attempt) {
        api.waitFor(execId).whenComplete((status, e) -> {
            if (status != null) {
                exited(status);
            } else if (api.isOpen() && wanted.getAsBoolean() && !hasExited()) {
                if (attempt < WAIT_RETRIES) {
                    log.debug("Wait for {} failed ({}); retrying", name, e.toString());
                    CompletableFuture.delayedExecutor(200L << attempt, TimeUnit.MILLISECONDS, retries)
                            .execute(() -> watch(api, execId, retries, wanted, attempt + 1));
                } else {
                    log.warn("Wait for {} keeps failing: {}", name, e.toString());
                }
            }
        });
    }

    /**
     * Delivers the exit to waiters once it is reported and {@code io}'s output drained (or the drain timed
     * out), on {@code callbacks}. {@code io} may be null: nothing to drain.
     */
    void deliverAfter(TaskIO io, Executor callbacks) {
        CompletableFuture<ExitStatus> done = io == null ? reported
                : reported.thenCompose(status -> io.drained()
                        .completeOnTimeout(null, DRAIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                        .thenApply(v -> status));
        done.whenCompleteAsync((status, error) -> {
            if (status != null) {
                StepTimes.markOn(steps, "exit-delivered");
                delivered.complete(status);
            } else {
                delivered.completeExceptionally(error);
            }
        }, callbacks);
    }

    /** Waits (bounded) for delivery, as a delete does before it removes the output's FIFOs. */
    void awaitDelivered() {
        try {
            delivered.get(DRAIN_TIMEOUT_MS + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.debug("output of {} not fully drained: {}", name, e.toString());
        }
    }

    /** Waiters that did not get an exit get this: the handle went away first. */
    void cancel() {
        delivered.completeExceptionally(new CanceledException(name + " was released"));
    }

    ExitStatus waitFor() throws InterruptedException {
        try {
            return delivered.get();
        } catch (ExecutionException e) {
            throw unwrap(e);
        }
    }

    Optional<ExitStatus> waitFor(Duration timeout) throws InterruptedException {
        try {
            return Optional.of(delivered.get(timeout.toNanos(), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (ExecutionException e) {
            throw unwrap(e);
        }
    }

    CompletableFuture<ExitStatus> onExit() {
        return delivered.copy();
    }

    private static RuntimeException unwrap(ExecutionException e) {
        return e.getCause() instanceof RuntimeException re ? re : new BerthException(String.valueOf(e.getCause()), e);
    }
}
