package dev.berth.events.journal;

import java.io.IOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.FileLockInterruptionException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Excludes appends, rotation and reads of one journal from each other, across processes ({@code fcntl} lock
 * on the lock file) and across threads and journals of one JVM (POSIX locks belong to the process, so a
 * second {@link EventJournal} on the same directory in this JVM would otherwise not be excluded). One
 * channel per lock file and JVM, never closed: closing any descriptor of a file drops all the process's
 * POSIX locks on it, also those another thread holds.
 */
final class JournalLock {
    private static final ConcurrentMap<Path, JournalLock> IN_JVM = new ConcurrentHashMap<>();
    private final ReentrantLock inJvm = new ReentrantLock();
    private final Path path;
    /** Replaced (under {@link #inJvm}) only when an interrupt closed it. */
    private FileChannel channel;

    private JournalLock(Path path) throws IOException {
        this.path = path;
        this.channel = open(path);
    }

    private static FileChannel open(Path path) throws IOException {
        return FileChannel.open(path, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }

    static JournalLock of(Path file) throws IOException {
        Path key = file.toAbsolutePath().normalize();
        try {
            return IN_JVM.computeIfAbsent(key, k -> {
                try {
                    return new JournalLock(k);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * Runs {@code body} holding the lock. An interrupt would close the channel a blocked {@code lock()}
     * waits on, for every journal of this JVM, and the journal's own channels in the body: the lock is held
     * briefly, so the caller's interrupt status is set aside while it runs and set again afterwards (an
     * interrupt that arrives meanwhile is kept too).
     */
    <T> T locked(IoBody<T> body) throws IOException {
        boolean interrupted = Thread.interrupted();
        inJvm.lock();
        try {
            FileLock held = null;
            while (held == null) {
                if (!channel.isOpen()) {
                    channel = open(path); // no lock of this process was held on it: inJvm excludes the others
                }
                try {
                    held = channel.lock();
                } catch (ClosedByInterruptException | FileLockInterruptionException e) {
                    Thread.interrupted(); // set aside like the first one; a new channel is opened above
                    interrupted = true;
                }
            }
            try {
                return body.run();
            } finally {
                try {
                    held.release();
                } catch (ClosedChannelException closedMeanwhile) {
                    // an interrupt closed it in the body, which dropped the lock as well
                }
            }
        } finally {
            inJvm.unlock();
            if (interrupted || Thread.interrupted()) {
                Thread.currentThread().interrupt();
            }
        }
    }

    interface IoBody<T> {
        T run() throws IOException;
    }
}
