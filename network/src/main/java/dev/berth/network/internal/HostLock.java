package dev.berth.network.internal;

import dev.berth.api.IoFailureException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A lock held across threads and processes: a JVM-wide lock per file (file locks are per process) plus an
 * exclusive {@code flock}-style lock on the file.
 */
public final class HostLock {
    private static final Map<Path, ReentrantLock> LOCAL = new ConcurrentHashMap<>();
    private final Path file;

    public HostLock(Path file) {
        this.file = file.toAbsolutePath().normalize();
    }

    public <T> T with(Supplier<T> work) {
        ReentrantLock local = LOCAL.computeIfAbsent(file, f -> new ReentrantLock());
        local.lock();
        try {
            if (local.getHoldCount() > 1) {
                return work.get();
            }
            Files.createDirectories(file.getParent());
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                return work.get();
            }
        } catch (IOException e) {
            throw IoFailureException.of("cannot lock " + file, e);
        } finally {
            local.unlock();
        }
    }

    public void run(Runnable work) {
        with(() -> {
            work.run();
            return null;
        });
    }
}
