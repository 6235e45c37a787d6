package dev.berth.runtime.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Removes retired bundles off the caller's path (deleting files is slow on some disks). */
final class Removals {
    private static final Logger log = LoggerFactory.getLogger(Removals.class);
    private final Executor ioThreads;
    private final Set<Path> pending = ConcurrentHashMap.newKeySet();

    Removals(Executor ioThreads) {
        this.ioThreads = ioThreads;
    }

    void removeLater(Path doomed) {
        if (doomed == null) {
            return;
        }
        pending.add(doomed);
        try {
            ioThreads.execute(() -> remove(doomed));
        } catch (RejectedExecutionException closing) {
            remove(doomed);
        }
    }

    private void remove(Path doomed) {
        try {
            Bundle.removeRecursively(doomed);
        } catch (IOException e) {
            log.warn("cannot remove {}: {}", doomed, e.toString());
        } finally {
            pending.remove(doomed);
        }
    }

    /** Waits up to {@code millis} for removals in flight. */
    void await(long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!pending.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
