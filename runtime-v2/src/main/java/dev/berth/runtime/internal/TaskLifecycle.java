package dev.berth.runtime.internal;

import dev.berth.api.CanceledException;
import dev.berth.api.ClosedException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * Who may end a task handle, and how, without a lock held across a shim call: one delete runs at a time
 * (others wait for its outcome), and a close that comes while a delete waits for the shim returns at once
 * and leaves the task to that delete (or closes it after a delete that failed).
 */
final class TaskLifecycle<T> {
    private final String name;
    private CompletableFuture<T> deletion;
    private boolean closed;
    private boolean closeRequested;

    TaskLifecycle(String name) {
        this.name = name;
    }

    /**
     * Runs {@code deleteNow} unless a delete already ran or runs, whose outcome is returned then. After a
     * failed delete, a close asked for meanwhile runs {@code close}.
     *
     * @throws ClosedException if the handle was closed
     */
    T delete(Supplier<T> deleteNow, Runnable close) {
        CompletableFuture<T> running;
        CompletableFuture<T> mine = null;
        synchronized (this) {
            if (closed) {
                throw new ClosedException(name);
            }
            running = deletion;
            if (running == null) {
                deletion = mine = new CompletableFuture<>();
            }
        }
        if (mine == null) {
            return await(running);
        }
        try {
            T result = deleteNow.get();
            mine.complete(result);
            return result;
        } catch (RuntimeException e) {
            boolean closeNow;
            synchronized (this) {
                deletion = null;
                closeNow = closeRequested;
            }
            mine.completeExceptionally(e);
            if (closeNow) {
                close.run();
            }
            throw e;
        }
    }

    /** Whether the caller should close the handle now: not if it was closed, deleted or is being deleted. */
    synchronized boolean close() {
        if (closed || deletion != null) {
            closeRequested = true;
            return false;
        }
        closed = true;
        return true;
    }

    private T await(CompletableFuture<T> running) {
        try {
            return running.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CanceledException("interrupted while " + name + " was being deleted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new CanceledException(String.valueOf(e.getCause()));
        }
    }
}
