package dev.berth.events.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
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
    private final FileChannel channel;

    private JournalLock(FileChannel channel) {
        this.channel = channel;
    }

    static JournalLock of(Path file) throws IOException {
        Path key = file.toAbsolutePath().normalize();
        try {
            return IN_JVM.computeIfAbsent(key, k -> {
                try {
                    return new JournalLock(FileChannel.open(k, java.util.Set.of(StandardOpenOption.CREATE,
                            StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rw-------"))));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Runs {@code body} holding the lock. */
    <T> T locked(IoBody<T> body) throws IOException {
        inJvm.lock();
        try (FileLock ignored = channel.lock()) {
            return body.run();
        } finally {
            inJvm.unlock();
        }
    }

    interface IoBody<T> {
        T run() throws IOException;
    }
}
