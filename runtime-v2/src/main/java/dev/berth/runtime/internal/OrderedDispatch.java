package dev.berth.runtime.internal;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs tasks on an executor, one at a time and in submission order per key, any number of keys in parallel.
 */
final class OrderedDispatch {
    private final Executor executor;
    private final Map<String, ArrayDeque<Runnable>> pending = new HashMap<>();

    OrderedDispatch(Executor executor) {
        this.executor = executor;
    }

    /** Runs {@code work} after every task submitted earlier under {@code key}; completes with its outcome. */
    CompletableFuture<Void> submit(String key, Runnable work) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable task = () -> {
            try {
                work.run();
                done.complete(null);
            } catch (RuntimeException | Error e) {
                done.completeExceptionally(e);
            }
        };
        synchronized (pending) {
            ArrayDeque<Runnable> queue = pending.get(key);
            if (queue != null) {
                queue.add(task);
                return done;
            }
            pending.put(key, new ArrayDeque<>());
        }
        try {
            executor.execute(() -> drain(key, task));
        } catch (RejectedExecutionException e) {
            synchronized (pending) {
                pending.remove(key);
            }
            done.completeExceptionally(e);
        }
        return done;
    }

    private void drain(String key, Runnable first) {
        Runnable next = first;
        while (next != null) {
            next.run();
            synchronized (pending) {
                ArrayDeque<Runnable> queue = pending.get(key);
                next = queue.poll();
                if (next == null) {
                    pending.remove(key);
                }
            }
        }
    }
}
