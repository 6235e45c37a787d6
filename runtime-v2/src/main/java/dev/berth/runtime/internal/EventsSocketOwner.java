package dev.berth.runtime.internal;

import dev.berth.runtime.ttrpc.internal.TtrpcServer;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides which of the runtimes on a state directory serves {@code <state>/events.sock}, where every shim
 * publishes: the one holding the {@code fcntl} lock on {@code <state>/events.lock} (and, inside a JVM, the
 * one registered for it). Every runtime calls {@link #tryOwn} periodically, so when the owner goes away (even
 * by SIGKILL: the kernel drops its lock) another live runtime binds the socket within one period; the
 * shims retry their publishes meanwhile (containerd's shim requeues a failed publish up to 5 times, waiting
 * 1, 2, ... s) and reconnect to the new listener.
 */
final class EventsSocketOwner implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventsSocketOwner.class);
    private static final ConcurrentMap<Path, EventsSocketOwner> IN_JVM = new ConcurrentHashMap<>();
    private final Path lockFile;
    private final Path socket;
    private final Supplier<TtrpcServer> bind;
    private FileChannel channel;
    private FileLock lock;
    private TtrpcServer server;
    private boolean closed;

    EventsSocketOwner(Path stateDir, Path socket, Supplier<TtrpcServer> bind) {
        this.lockFile = stateDir.resolve("events.lock").toAbsolutePath().normalize();
        this.socket = socket;
        this.bind = bind;
    }

    synchronized boolean owns() {
        return server != null;
    }

    /** Becomes the socket's owner if no live runtime is; returns whether this runtime serves it. */
    synchronized boolean tryOwn() {
        if (closed) {
            return false;
        }
        if (server != null) {
            return true;
        }
        if (IN_JVM.putIfAbsent(lockFile, this) != null) {
            return false;
        }
        try {
            channel = FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                release();
                return false;
            }
            server = bind.get();
            log.debug("serving shim events on {}", socket);
            return true;
        } catch (IOException | RuntimeException e) {
            log.warn("cannot take over the events socket {}: {}", socket, e.toString());
            release();
            return false;
        }
    }

    private void release() {
        if (server != null) {
            server.close();
            server = null;
        }
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException ignored) {
            // closing drops the lock
        }
        channel = null;
        lock = null;
        IN_JVM.remove(lockFile, this);
    }

    /** Stops serving (removing the socket while still holding the lock) and lets another runtime take over. */
    @Override
    public synchronized void close() {
        closed = true;
        release();
    }
}
