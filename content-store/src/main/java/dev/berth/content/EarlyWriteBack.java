package dev.berth.content;

import dev.berth.sys.Syscalls;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Starts the write-back of an ingest's data file in steps of STEP bytes as it grows. On a machine with RAM to
 * spare the kernel starts writing dirty pages back only after dirty_expire_centisecs (30 s) or past
 * dirty_background_ratio, so a large blob stayed wholly in the page cache and the commit's fsync paid all of its
 * write-back alone, after the copy and the hash were over. sync_file_range(SYNC_FILE_RANGE_WRITE) on each step
 * as soon as it is written lets the device write while the next steps are copied and hashed; the fsync then
 * waits for what is still in flight and flushes the device's cache. Durability is unchanged: the commit's fsync
 * still decides, and an error here shows again there. sync_file_range does not wait for the write, but it does
 * wait for room in the device's request queue (seconds on a loop device at load), so one more thread (asleep
 * when it waits) calls it, in file order, and the writing thread never waits on it; "inline" calls it on the
 * writing thread (A/B). Through a descriptor of its own (read-only is enough): a FileChannel hides its own.
 */
final class EarlyWriteBack {
    private static final Logger LOG = LoggerFactory.getLogger(EarlyWriteBack.class);

    /**
     * {@code -Dberth.content.earlyWriteBack=false}: a writer leaves the write-back of what it wrote to the kernel's
     * own schedule (in practice: all of it to the commit's fsync); {@code =inline}: starts it from the writing
     * thread (A/B).
     */
    static final String PROPERTY = "berth.content.earlyWriteBack";
    /** Written bytes not yet handed to write-back before a step is started: large, a system call each. */
    static final long STEP = 4L << 20;

    /** Whether Berth's sys module and jnr-ffi are there (an optional dependency); decided at the first use. */
    private static volatile Boolean available;

    private final Path file;
    private final int fd;
    private final boolean inline;
    private final Executor executor;
    private final AtomicInteger started;
    private long startedTo;
    private CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);

    private EarlyWriteBack(Path file, int fd, boolean inline, Executor executor, long from, AtomicInteger started) {
        this.file = file;
        this.fd = fd;
        this.inline = inline;
        this.executor = executor;
        this.startedTo = from;
        this.started = started;
    }

    /** For {@code file}, written from {@code from} on; null when switched off or the file cannot be opened. */
    static EarlyWriteBack open(Path file, long from, Executor executor, AtomicInteger started) {
        String mode = System.getProperty(PROPERTY, "true");
        if ("false".equals(mode) || Boolean.FALSE.equals(available)) {
            return null;
        }
        try {
            int fd = Syscalls.get().tryOpenat(Syscalls.AT_FDCWD, file.toString(), Syscalls.O_RDONLY, 0);
            if (fd < 0) {
                LOG.debug("cannot open {} for early write-back: errno {}", file, -fd);
                return null;
            }
            available = true;
            return new EarlyWriteBack(file, fd, "inline".equals(mode), executor, from, started);
        } catch (LinkageError e) { // no sys module or no jnr-ffi (both optional here): the fsync alone writes back
            available = false;
            LOG.debug("no early write-back (no libc binding): {}", e.toString());
            return null;
        } catch (RuntimeException e) {
            LOG.debug("no early write-back for {}: {}", file, e.toString());
            return null;
        }
    }

    /** The file now holds {@code end} bytes: starts the write-back of what was written since the last step. */
    void writtenTo(long end) {
        if (end < startedTo) { // cut back (a failure, a truncate): start over from there
            startedTo = end;
            return;
        }
        if (end - startedTo < STEP) {
            return;
        }
        long at = startedTo;
        long length = end - at;
        startedTo = end;
        if (inline) {
            start(at, length);
        } else {
            chain = chain.thenRunAsync(() -> start(at, length), executor);
        }
    }

    private void start(long at, long length) {
        int rc = Syscalls.get().syncFileRange(fd, at, length, Syscalls.SYNC_FILE_RANGE_WRITE);
        if (rc < 0) {
            LOG.debug("{}: sync_file_range at {}: errno {}", file, at, -rc);
        } else {
            started.incrementAndGet();
        }
    }

    /** Waits until every step was handed to the kernel (not written), then closes the descriptor. Idempotent. */
    void close() {
        chain.exceptionally(e -> null).join();
        chain = CompletableFuture.completedFuture(null);
        if (startedTo >= 0) {
            startedTo = -1;
            Syscalls.get().close(fd);
        }
    }
}
