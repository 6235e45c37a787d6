package dev.berth.runtime.internal;

import dev.berth.api.IoFailureException;

import dev.berth.api.FailedPreconditionException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** An exclusive lock on {@code <state>/runtime.lock}, held while a task runtime owns the state directory. */
final class StateLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private StateLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** @throws FailedPreconditionException if another runtime, in this JVM or another, holds it */
    static StateLock acquire(Path stateDir) {
        Path file = stateDir.resolve("runtime.lock");
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw IoFailureException.of("cannot open " + file, e);
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            closeQuietly(channel);
            throw IoFailureException.of("cannot lock " + file, e);
        }
        if (lock == null) {
            closeQuietly(channel);
            java.util.OptionalLong holder = LockOwner.pidOf(file);
            throw new FailedPreconditionException("state directory " + stateDir
                    + " is in use by another task runtime (" + (holder.isPresent() ? "process " + holder.getAsLong()
                    : "another process") + " holds " + file + "); only that process can create or change"
                    + " tasks there, others can list them read-only");
        }
        return new StateLock(channel, lock);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing held
        }
    }

    @Override
    public void close() {
        try {
            if (lock.isValid()) {
                lock.release();
            }
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        closeQuietly(channel);
    }
}
