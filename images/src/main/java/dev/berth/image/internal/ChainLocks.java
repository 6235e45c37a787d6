package dev.berth.image.internal;

import dev.berth.api.BerthException;
import dev.berth.api.CanceledException;
import dev.berth.api.IoFailureException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One lock per (snapshotter, chainID), so that concurrent unpacks of the same layers do the work once:
 * a JVM-wide {@link ReentrantLock} for threads, plus, when a lock directory is configured, a POSIX
 * record lock on {@code <dir>/<snapshotter>-<alg>-<hex>.lock} for other processes (released by the
 * kernel if the holder dies). Lock files are small and are not deleted: deleting one while another
 * process waits on it would let two holders in.
 */
public final class ChainLocks {
    private static final ConcurrentHashMap<String, Held> IN_JVM = new ConcurrentHashMap<>();

    private final Path dir;

    /** @param dir directory for cross-process lock files, or null for in-JVM locking only */
    public ChainLocks(Path dir) {
        this.dir = dir;
        if (dir != null) {
            try {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (IOException e) {
                throw new IoFailureException("cannot create unpack lock directory " + dir + ": " + e, e);
            }
        }
    }

    /** Blocks until this thread holds the lock for {@code chainId} in {@code snapshotter}. */
    public Handle lock(String snapshotter, String chainId) {
        String name = snapshotter + "-" + chainId.replace(':', '-');
        String key = (dir == null ? "" : dir.toAbsolutePath() + "/") + name;
        Held held = IN_JVM.compute(key, (k, h) -> {
            Held r = h == null ? new Held() : h;
            r.users++;
            return r;
        });
        try {
            held.lock.lockInterruptibly();
        } catch (InterruptedException e) {
            release(key, held);
            Thread.currentThread().interrupt();
            throw new CanceledException("interrupted while waiting to unpack " + chainId, e);
        }
        FileChannel channel = null;
        FileLock fileLock = null;
        if (dir != null) {
            try {
                channel = FileChannel.open(dir.resolve(name + ".lock"),
                        Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                fileLock = channel.lock();
            } catch (IOException | RuntimeException e) {
                closeQuietly(channel);
                held.lock.unlock();
                release(key, held);
                throw new BerthException("cannot lock " + dir.resolve(name + ".lock") + ": " + e, e);
            }
        }
        return new Handle(key, held, channel, fileLock);
    }

    private static void release(String key, Held held) {
        IN_JVM.computeIfPresent(key, (k, h) -> --h.users == 0 ? null : h);
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing releases the lock anyway
            }
        }
    }

    private static final class Held {
        final ReentrantLock lock = new ReentrantLock();
        int users;
    }

    /** A held lock; {@link #close()} releases it (idempotent). */
    public static final class Handle implements AutoCloseable {
        private final String key;
        private final Held held;
        private final FileChannel channel;
        private final FileLock fileLock;
        private boolean closed;

        private Handle(String key, Held held, FileChannel channel, FileLock fileLock) {
            this.key = key;
            this.held = held;
            this.channel = channel;
            this.fileLock = fileLock;
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (fileLock != null) {
                    fileLock.release();
                }
            } catch (IOException ignored) {
                // closing the channel releases it
            } finally {
                closeQuietly(channel);
                held.lock.unlock();
                release(key, held);
            }
        }
    }
}
