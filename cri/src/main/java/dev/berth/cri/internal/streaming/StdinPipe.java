package dev.berth.cri.internal.streaming;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;

/**
 * A byte queue read as an {@link InputStream}: an event loop {@link #offer}s without blocking and is told
 * to pause reading its socket once {@link #HIGH} bytes wait (and to resume below {@link #LOW}); threads
 * may {@link #put} and then block instead. Closing the write side gives the reader EOF after the rest.
 */
public final class StdinPipe extends InputStream {
    static final int HIGH = 1 << 20;
    static final int LOW = 256 << 10;

    /** Told when the producer should stop or start reading more. */
    public interface FlowControl {
        void pause(boolean paused);
    }

    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    private byte[] head;
    private int headPos;
    private long buffered;
    private boolean eof;
    private boolean readerGone;
    private boolean paused;
    private final FlowControl flow;

    public StdinPipe(FlowControl flow) {
        this.flow = flow;
    }

    /** Adds bytes without blocking; false once the reader is gone or the pipe is closed for writing. */
    public boolean offer(byte[] b) {
        boolean pause;
        synchronized (this) {
            if (eof || readerGone) {
                return false;
            }
            if (b.length == 0) {
                return true;
            }
            chunks.add(b);
            buffered += b.length;
            notifyAll();
            pause = !paused && buffered >= HIGH;
            if (pause) {
                paused = true;
            }
        }
        if (pause && flow != null) {
            flow.pause(true);
        }
        return true;
    }

    /** Adds bytes, waiting while {@link #HIGH} bytes are buffered. */
    public void put(byte[] b) throws IOException {
        synchronized (this) {
            try {
                while (buffered >= HIGH && !eof && !readerGone) {
                    wait();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted writing stdin");
            }
            if (eof || readerGone) {
                throw new IOException("stdin is closed");
            }
        }
        offer(b);
    }

    /** No more bytes come: the reader sees EOF after what is buffered. Idempotent. */
    public synchronized void closeWrite() {
        eof = true;
        notifyAll();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        boolean resume;
        int n;
        synchronized (this) {
            try {
                while (head == null && chunks.isEmpty() && !eof && !readerGone) {
                    wait();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted reading stdin");
            }
            if (readerGone) {
                throw new IOException("stdin pipe closed");
            }
            if (head == null) {
                head = chunks.poll();
                headPos = 0;
                if (head == null) {
                    return -1; // eof
                }
            }
            n = Math.min(len, head.length - headPos);
            System.arraycopy(head, headPos, b, off, n);
            headPos += n;
            if (headPos == head.length) {
                head = null;
            }
            buffered -= n;
            notifyAll();
            resume = paused && buffered < LOW;
            if (resume) {
                paused = false;
            }
        }
        if (resume && flow != null) {
            flow.pause(false);
        }
        return n;
    }

    /** The reader is gone: buffered bytes are dropped and writers fail. */
    @Override
    public synchronized void close() {
        readerGone = true;
        chunks.clear();
        head = null;
        buffered = 0;
        notifyAll();
    }
}
