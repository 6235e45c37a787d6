package dev.berth.runtime.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sink of one output FIFO of a reconnected task: lines go to a logger until a caller {@linkplain
 * #redirect redirects} them to its own stream. It must never stop taking bytes (a pump that stops leaves
 * the container blocked on its next write), so a caller's stream that fails is dropped for the log again.
 *
 * <p>The first redirect also gets what was drained before it: the output the task wrote while no runtime
 * read (what the FIFO and the shim held) comes out at once on reconnect, usually before the caller has had
 * a chance to attach, and a log file such as a CRI container's must not miss it. That is kept for at most
 * {@link #EARLY_LIMIT} bytes and {@link #EARLY_WINDOW_NANOS} after the reconnect; past either, nothing is
 * replayed, and a redirect takes effect at the next line boundary, so the caller never gets the tail of a
 * logged line.
 */
final class RedirectableOutput extends OutputStream {
    private static final Logger log = LoggerFactory.getLogger(RedirectableOutput.class);
    /** Four times a pipe's buffer: what a FIFO and the shim's copy hold, plus output until the first attach. */
    static final int EARLY_LIMIT = 256 * 1024;
    static final long EARLY_WINDOW_NANOS = 10_000_000_000L;

    private final String name;
    private final LineSplitter lines;
    private final long earlyUntil;
    /** What was drained before the first redirect, for it; null once replayed or given up. */
    private ByteArrayOutputStream early = new ByteArrayOutputStream();
    /** Where bytes go now: the caller's stream, or null for the log. */
    private OutputStream target;
    /** A redirect waiting for the logged line to end; null when none is waiting. */
    private OutputStream requested;

    RedirectableOutput(String name, Consumer<String> lineLog) {
        this.name = name;
        this.lines = new LineSplitter(lineLog, LineSplitter.MAX_LINE_BYTES);
        this.earlyUntil = System.nanoTime() + EARLY_WINDOW_NANOS;
    }

    /** Sends what follows to {@code out} (flushed, never closed), or back to the log for null. */
    synchronized void redirect(OutputStream out) {
        if (target != null) {
            flushQuietly(target);
        }
        if (out != null && early != null) {
            byte[] kept = early.toByteArray();
            early = null;
            try {
                out.write(kept);
                lines.discardPartialLine(); // the caller has the whole stream from the reconnect on
                target = out;
                requested = null;
                return;
            } catch (IOException e) {
                log.warn("{} output stream failed ({}); logging its output again", name, e.toString());
                return;
            }
        }
        if (out == null || target != null) {
            target = out;
            requested = null;
        } else {
            requested = out;
        }
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        while (len > 0) {
            if (requested != null && !lines.midLine()) {
                target = requested;
                requested = null;
            }
            if (target == null) {
                int n = requested != null ? lines.toEndOfLine(b, off, len) : len;
                keepEarly(b, off, n);
                lines.write(b, off, n);
                off += n;
                len -= n;
                continue;
            }
            try {
                target.write(b, off, len);
                return;
            } catch (IOException e) {
                log.warn("{} output stream failed ({}); logging its output again", name, e.toString());
                target = null;
            }
        }
    }

    private void keepEarly(byte[] b, int off, int len) {
        if (early == null) {
            return;
        }
        if (early.size() + len > EARLY_LIMIT || System.nanoTime() - earlyUntil > 0) {
            early = null; // bounded: a caller attaching this late gets the stream from the next line on
            return;
        }
        early.write(b, off, len);
    }

    @Override
    public synchronized void flush() {
        if (target != null) {
            try {
                target.flush();
            } catch (IOException e) {
                log.warn("{} output stream failed ({}); logging its output again", name, e.toString());
                target = null;
            }
        }
    }

    /** Passes on a partial logged line and flushes the caller's stream (which stays open). */
    @Override
    public synchronized void close() {
        lines.close();
        if (target != null) {
            flushQuietly(target);
        }
    }

    private static void flushQuietly(OutputStream out) {
        try {
            out.flush();
        } catch (IOException ignored) {
            // the caller's stream is gone; nothing to deliver to
        }
    }
}
