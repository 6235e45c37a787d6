package dev.berth.content;

import dev.berth.api.IoFailureException;
import dev.berth.api.UnavailableException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exclusive hold on one ingest ref, across threads and across processes sharing the store root.
 *
 * <p>Across processes it is a POSIX record lock ({@link FileChannel#tryLock()}) on a lock file, which the
 * kernel drops when the holder dies, so a SIGKILLed writer never leaves a ref stuck. Such locks belong to
 * the process, not to a channel, and closing <em>any</em> descriptor of the file releases them; hence a
 * JVM-wide table, keyed by the lock file's real path, is consulted first: while one thread holds a ref,
 * no other thread of this JVM opens its lock file at all.
 *
 * <p>The holder deletes the lock file (while still holding it) once the ingest is gone. A contender may
 * then hold a lock on an unlinked inode; it detects that by comparing the file key it locked with the
 * one now at the path, and tries again.
 */
final class RefLock {
    private static final Logger LOG = LoggerFactory.getLogger(RefLock.class);
    private static final ConcurrentMap<Path, Holder> HELD_IN_THIS_JVM = new ConcurrentHashMap<>();
    private static final int ATTEMPTS = 8;

    private final Path lockFile;
    private final Holder holder;
    private FileChannel channel;
    private FileLock lock;

    private record Holder(String ref, String thread, Instant since) {
    }

    private RefLock(Path lockFile, Holder holder, FileChannel channel, FileLock lock) {
        this.lockFile = lockFile;
        this.holder = holder;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the ref without waiting.
     *
     * @param lockFile absolute path under the store's real root path
     * @throws UnavailableException "ref X locked for D (since T) by ..." if anyone holds it
     */
    static RefLock acquire(Path lockFile, String ref) {
        Holder me = new Holder(ref, Thread.currentThread().getName(), Instant.now());
        Holder other = HELD_IN_THIS_JVM.putIfAbsent(lockFile, me);
        if (other != null) {
            throw locked(ref, other.since(), "thread \"" + other.thread() + "\" of this process");
        }
        try {
            return lockFile(lockFile, me);
        } catch (RuntimeException | Error e) {
            HELD_IN_THIS_JVM.remove(lockFile, me);
            throw e;
        }
    }

    private static RefLock lockFile(Path lockFile, Holder me) {
        try {
            Files.createDirectories(lockFile.getParent(), FileModes.PRIVATE_DIR);
            for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                try {
                    Files.createFile(lockFile, FileModes.PRIVATE_FILE);
                } catch (FileAlreadyExistsException e) {
                    // normal: left by an earlier holder or held right now
                }
                Object keyBefore;
                FileChannel ch;
                try {
                    keyBefore = fileKey(lockFile);
                    ch = FileChannel.open(lockFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
                } catch (NoSuchFileException e) {
                    continue; // the holder removed it just now
                }
                FileLock lock;
                try {
                    lock = ch.tryLock();
                } catch (OverlappingFileLockException e) {
                    // Same file reached through a second path into this root (a bind mount): we must not
                    // close the channel of the real holder's file, so report it as held.
                    lock = null;
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw e;
                }
                if (lock == null) {
                    String description = describeHolder(ch);
                    ch.close();
                    throw locked(me.ref(), null, description);
                }
                Object keyAfter;
                try {
                    keyAfter = fileKey(lockFile);
                } catch (NoSuchFileException e) {
                    keyAfter = null;
                }
                if (!Objects.equals(keyBefore, keyAfter)) {
                    lock.release();
                    ch.close();
                    continue; // we locked an inode its holder had already unlinked
                }
                writeHolder(ch, me);
                return new RefLock(lockFile, me, ch, lock);
            }
            throw new UnavailableException("ref " + me.ref() + " locked: its lock file " + lockFile
                    + " kept being replaced by other processes");
        } catch (IOException e) {
            throw new IoFailureException("cannot lock ingest ref " + me.ref() + " (" + lockFile + "): " + e, e);
        }
    }

    private static Object fileKey(Path path) throws IOException {
        return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
    }

    private static void writeHolder(FileChannel ch, Holder me) throws IOException {
        String text = "pid " + ProcessHandle.current().pid() + " since " + IngestTimestamps.format(me.since())
                + "\n";
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), 0);
    }

    /** Reads the holder note through the channel we already have (opening the file again is not safe). */
    private static String describeHolder(FileChannel ch) {
        try {
            ByteBuffer buf = ByteBuffer.allocate(128);
            ch.read(buf, 0);
            String text = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).strip();
            if (text.startsWith("pid ")) {
                return "process " + text.substring(4);
            }
        } catch (IOException e) {
            // the note is only for the message
        }
        return "another process";
    }

    private static UnavailableException locked(String ref, Instant since, String by) {
        String when = since == null ? ""
                : " for " + Duration.between(since, Instant.now()).toMillis() + "ms (since "
                        + IngestTimestamps.format(since) + ")";
        return new UnavailableException("ref " + ref + " locked" + when + " by " + by);
    }

    /**
     * Releases the ref. With {@code deleteFile} the lock file is removed first, while still held, so no
     * one else can be relying on it. Idempotent.
     */
    synchronized void release(boolean deleteFile) {
        if (channel == null) {
            return;
        }
        try {
            if (deleteFile) {
                Files.deleteIfExists(lockFile);
            }
        } catch (IOException e) {
            LOG.warn("cannot remove lock file {} of ref {}: {}", lockFile, holder.ref(), e.toString());
        }
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            LOG.warn("releasing lock file {} of ref {}: {}", lockFile, holder.ref(), e.toString());
        } finally {
            channel = null;
            lock = null;
            HELD_IN_THIS_JVM.remove(lockFile, holder);
        }
    }
}
