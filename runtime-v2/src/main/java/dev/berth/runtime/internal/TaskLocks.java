package dev.berth.runtime.internal;

import dev.berth.api.CanceledException;
import dev.berth.api.DeadlineExceededException;
import dev.berth.api.IoFailureException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * One lock per task, shared by every process (and every runtime in this JVM) on a state directory:
 * {@code fcntl} on {@code <state>/locks/<ns>/<id>.lock}, plus a semaphore per file in this JVM (POSIX locks
 * belong to the process, so two runtimes of one JVM would not exclude each other otherwise). Held around
 * what changes a task's bundle or shim (create, start, delete, cleanup after a lost shim), never while
 * waiting for an exit.
 *
 * <p>A task's lock file goes with the task: its last holder marks it dead (one byte; a live lock file is
 * empty) and unlinks it. Whoever then gets the lock on that old file sees the mark and locks the path anew.
 */
final class TaskLocks {
    private static final ConcurrentMap<Path, Semaphore> IN_JVM = new ConcurrentHashMap<>();
    /** Long enough for a create or delete stuck on its shim to end ({@link ShimTask#CLEANUP_TIMEOUT_MS}). */
    static final Duration WAIT = Duration.ofSeconds(45);
    private final Path dir;

    /** Locks task names in {@code dir} ({@code <state>/locks}, or a subdirectory for another kind of lock). */
    TaskLocks(Path dir) {
        this.dir = dir;
    }

    Path file(String namespace, String id) {
        return dir.resolve(namespace).resolve(id + ".lock");
    }

    /** Waits up to {@link #WAIT} for the task's lock. */
    Held lock(String namespace, String id) {
        return acquire(namespace, id, true).orElseThrow();
    }

    /** The task's lock if no one holds it now. */
    Optional<Held> tryLock(String namespace, String id) {
        return acquire(namespace, id, false);
    }

    private Optional<Held> acquire(String namespace, String id, boolean wait) {
        Path file = file(namespace, id);
        Semaphore inJvm = IN_JVM.computeIfAbsent(file, k -> new Semaphore(1));
        long deadline = System.nanoTime() + WAIT.toNanos();
        try {
            if (wait) {
                if (!inJvm.tryAcquire(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw timeout(namespace, id, file);
                }
            } else if (!inJvm.tryAcquire()) {
                return Optional.empty();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CanceledException("interrupted while waiting for the lock of task " + namespace + "/" + id);
        }
        boolean ok = false;
        try {
            Files.createDirectories(file.getParent());
            while (true) {
                FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------")));
                FileLock lock = null;
                try {
                    lock = ch.tryLock();
                    while (lock == null && wait && System.nanoTime() < deadline) {
                        Thread.sleep(2);
                        lock = ch.tryLock();
                    }
                    if (lock == null) {
                        ch.close();
                        if (!wait) {
                            return Optional.empty();
                        }
                        throw timeout(namespace, id, file);
                    }
                    if (ch.size() == 0) {
                        ok = true;
                        return Optional.of(new Held(file, ch, inJvm));
                    }
                    // the task this file locked was deleted; its successor locks a new file
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    ch.close();
                    throw new CanceledException("interrupted while waiting for the lock of task " + namespace + "/" + id);
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw e;
                }
                ch.close();
            }
        } catch (IOException e) {
            throw IoFailureException.of("cannot lock task " + namespace + "/" + id + " (" + file + ")", e);
        } finally {
            if (!ok) {
                inJvm.release();
            }
        }
    }

    private static DeadlineExceededException timeout(String namespace, String id, Path file) {
        java.util.OptionalLong holder = LockOwner.pidOf(file);
        return new DeadlineExceededException("task " + namespace + "/" + id + " stayed locked for " + WAIT.toSeconds()
                + " s by " + (holder.isPresent() ? "process " + holder.getAsLong() : "another runtime") + " (" + file + ")");
    }

    /** A held task lock. Closing releases it. */
    static final class Held implements AutoCloseable {
        private final Path file;
        private final FileChannel channel;
        private final Semaphore inJvm;
        private boolean released;

        private Held(Path file, FileChannel channel, Semaphore inJvm) {
            this.file = file;
            this.channel = channel;
            this.inJvm = inJvm;
        }

        /** The task is gone: marks the lock file dead and unlinks it (still held until {@link #close}). */
        void taskGone() {
            try {
                channel.write(ByteBuffer.wrap(new byte[] {'x'}), 0);
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // a lock file left behind only costs its inode
            }
        }

        @Override
        public synchronized void close() {
            if (released) {
                return;
            }
            released = true;
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing releases the lock
            }
            inJvm.release();
        }
    }
}
