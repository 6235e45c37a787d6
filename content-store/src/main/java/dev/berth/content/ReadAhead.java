package dev.berth.content;

import dev.berth.api.CanceledException;
import dev.berth.api.IoFailureException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reads a source on its own thread, a few buffers ahead of the thread that hashes and writes them, so that
 * waiting for the source (a disk, a socket) overlaps with hashing instead of adding to it. Never reads past
 * {@code maxBytes}. Used for large transfers only; a thread per transfer is cheap beside a megabyte.
 *
 * <p>Never interrupts the reader: an interrupt would close an interruptible source channel that belongs to
 * the caller. {@link #stop()} lets it finish its current read and exit.
 */
final class ReadAhead {
    private static final int DEPTH = 8;
    private static final ByteBuffer END = ByteBuffer.allocate(0);

    private final ReadableByteChannel src;
    private final long maxBytes;
    private final List<ByteBuffer> buffers = new ArrayList<>(DEPTH);
    private final BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(DEPTH + 1);
    private final BlockingQueue<ByteBuffer> filled = new ArrayBlockingQueue<>(DEPTH + 1);
    private final String what;
    private volatile boolean stopped;
    private volatile IOException failure;
    private volatile long read;
    private final AtomicInteger parties = new AtomicInteger(2);

    ReadAhead(ReadableByteChannel src, long maxBytes, String what) {
        this.src = src;
        this.maxBytes = maxBytes;
        this.what = what;
        for (int i = 0; i < DEPTH; i++) {
            ByteBuffer b = TransferBuffers.take();
            buffers.add(b);
            free.add(b);
        }
        Thread thread = new Thread(this::readLoop, "berth-read-ahead");
        thread.setDaemon(true);
        thread.start();
    }

    private void readLoop() {
        try {
            long left = maxBytes;
            while (left > 0) {
                ByteBuffer b = free.take();
                if (b == END || stopped) {
                    return;
                }
                b.clear().limit((int) Math.min(b.capacity(), left));
                boolean eof = false;
                try {
                    while (b.hasRemaining()) {
                        if (src.read(b) < 0) {
                            eof = true;
                            break;
                        }
                    }
                } catch (IOException e) {
                    failure = e;
                    eof = true; // hand over what arrived before the failure, then stop
                }
                b.flip();
                left -= b.remaining();
                read += b.remaining();
                if (b.hasRemaining()) {
                    filled.put(b);
                }
                if (eof) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            filled.offer(END); // room is guaranteed: DEPTH buffers plus END
            leave();
        }
    }

    /**
     * The next chunk, or null once the source ended or {@code maxBytes} were read.
     *
     * @throws IoFailureException if reading the source failed (after the chunks before the failure)
     */
    ByteBuffer next() {
        try {
            ByteBuffer b = filled.take();
            if (b != END) {
                return b;
            }
            IOException e = failure;
            if (e != null) {
                throw new IoFailureException(what + ": reading the source failed after " + read + " bytes", e);
            }
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CanceledException(what + ": interrupted while waiting for the source", e);
        }
    }

    /** Hands a consumed chunk back for reading into. */
    void recycle(ByteBuffer b) {
        free.offer(b);
    }

    /** Ends the transfer; the reader finishes its current read, if any, and exits. */
    void stop() {
        stopped = true;
        free.offer(END);
        leave();
    }

    /** Reader and consumer each leave once; the last one out returns the buffers to the pool. */
    private void leave() {
        if (parties.decrementAndGet() == 0) {
            buffers.forEach(TransferBuffers::give);
        }
    }
}
