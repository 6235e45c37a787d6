package dev.berth.runtime.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies between one stdio FIFO and a caller's stream on its own thread. Opening a FIFO blocks until
 * the shim opens the other end, so the output side is started before the shim's Create (which waits for
 * a reader) and {@link #cancel()} can release a pump whose shim never came.
 */
final class FifoPump implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(FifoPump.class);

    private final Path fifo;
    private final OutputStream out;
    private final InputStream in;
    private final Runnable afterInput;
    /** Whether the FIFO's writer may already be gone (a reconnected task that has exited). */
    private final boolean writerMayBeGone;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private volatile FileChannel channel;
    private volatile boolean cancelled;

    private FifoPump(Path fifo, OutputStream out, InputStream in, Runnable afterInput, boolean writerMayBeGone) {
        this.fifo = fifo;
        this.out = out;
        this.in = in;
        this.afterInput = afterInput;
        this.writerMayBeGone = writerMayBeGone;
    }

    /** Pumps what the shim writes into {@code fifo} to {@code out} until EOF. */
    static FifoPump reader(Path fifo, OutputStream out) {
        return new FifoPump(fifo, out, null, null, false);
    }

    /**
     * Like {@link #reader} for a FIFO a shim has been writing to for a while, whose process may have exited
     * (and the shim closed its end): the open must not wait for a writer, yet EOF must still be seen.
     */
    static FifoPump readerOfExisting(Path fifo, OutputStream out) {
        return new FifoPump(fifo, out, null, null, true);
    }

    /** Pumps {@code in} into {@code fifo} until {@code in} ends, then runs {@code afterInput}. */
    static FifoPump writer(Path fifo, InputStream in, Runnable afterInput) {
        return new FifoPump(fifo, null, in, afterInput, false);
    }

    CompletableFuture<Void> done() {
        return done;
    }

    @Override
    public void run() {
        try {
            if (out != null) {
                pumpOut();
            } else {
                pumpIn();
            }
        } catch (ClosedChannelException e) {
            // cancelled
        } catch (IOException e) {
            if (!cancelled) {
                log.debug("stdio pump on {} ended: {}", fifo, e.toString());
            }
        } finally {
            FileChannel ch = channel;
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // nothing left to release
                }
            }
            done.complete(null);
        }
    }

    private void pumpOut() throws IOException {
        if (cancelled) {
            return;
        }
        FileChannel ch;
        if (writerMayBeGone) {
            // A read-write open never waits; holding it while opening read-only makes that open return at
            // once too, and closing it leaves the shim's end as the only writer, so EOF still comes.
            try (FileChannel keeper = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch = FileChannel.open(fifo, StandardOpenOption.READ);
            }
        } else {
            ch = FileChannel.open(fifo, StandardOpenOption.READ);
        }
        channel = ch;
        if (cancelled) {
            return;
        }
        ByteBuffer buf = ByteBuffer.allocate(32 * 1024);
        while (ch.read(buf) >= 0) {
            if (buf.position() > 0) {
                out.write(buf.array(), 0, buf.position());
                out.flush();
                buf.clear();
            }
        }
    }

    private void pumpIn() throws IOException {
        try {
            if (cancelled) {
                return;
            }
            FileChannel ch = FileChannel.open(fifo, StandardOpenOption.WRITE);
            channel = ch;
            if (cancelled) {
                return;
            }
            OutputStream fifoOut = Channels.newOutputStream(ch);
            byte[] buf = new byte[32 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) {
                fifoOut.write(buf, 0, n);
            }
            ch.close();
        } finally {
            if (!cancelled && afterInput != null) {
                afterInput.run();
            }
        }
    }

    /** Releases the pump's thread, dropping whatever has not been copied yet. */
    void cancel() {
        cancelled = true;
        // A writer may be blocked reading the caller's stream, which nothing here can interrupt: try once.
        int attempts = out != null ? 200 : 1;
        for (int i = 0; i < attempts && !done.isDone(); i++) {
            FileChannel ch = channel;
            try {
                if (ch != null) {
                    ch.close();
                } else {
                    // Satisfies an open() still waiting for the other end; the pump then sees "cancelled".
                    FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE).close();
                }
            } catch (IOException e) {
                log.debug("releasing stdio pump on {}: {}", fifo, e.toString());
            }
            try {
                done.get(10, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // keep trying
            }
        }
    }
}
