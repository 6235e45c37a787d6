package dev.berth.cri.internal.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes bytes as a transport's frames (a WebSocket channel, a SPDY stream). At most {@link #MAX_IN_FLIGHT}
 * bytes of one output may be written and not yet handed to the socket: beyond that the writer waits, so a
 * client that reads slower than the process writes (or a SPDY peer that grants no window) blocks the
 * process on its pipe instead of this JVM buffering without bound. Once a write failed or the connection
 * is gone, writes fail.
 */
final class FrameOutput extends OutputStream {
    static final int MAX_FRAME = 32 << 10;
    static final int MAX_IN_FLIGHT = 256 << 10;

    /** Wraps {@code len} bytes of {@code b} into one message of the transport. */
    interface Framer {
        Object frame(Channel ch, byte[] b, int off, int len, boolean last);

        /** One message carrying {@code data}, whose ownership passes to the message (copied unless overridden). */
        default Object frame(Channel ch, ByteBuf data, boolean last) {
            try {
                byte[] b = ByteBufUtil.getBytes(data);
                return frame(ch, b, 0, b.length, last);
            } finally {
                data.release();
            }
        }
    }

    private final Channel channel;
    private final Framer framer;
    private final AtomicLong serverInFlight;
    private long inFlight;
    private boolean failed;
    private Runnable resume;

    FrameOutput(Channel channel, Framer framer, AtomicLong serverInFlight) {
        this.channel = channel;
        this.framer = framer;
        this.serverInFlight = serverInFlight;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, MAX_FRAME);
            synchronized (this) {
                try {
                    while (inFlight > 0 && inFlight + n > MAX_IN_FLIGHT && !failed && channel.isActive()) {
                        wait(1000);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted waiting for the client to read");
                }
                if (failed || !channel.isActive()) {
                    throw new IOException("the streaming client is gone");
                }
                inFlight += n;
            }
            send(framer.frame(channel, b, off, n, false), n);
            off += n;
            len -= n;
        }
    }

    /** One message with exactly these bytes (also when empty), not waiting for room; {@code last} ends the stream. */
    ChannelFuture frame(byte[] payload, boolean last) {
        synchronized (this) {
            inFlight += payload.length;
        }
        return send(framer.frame(channel, payload, 0, payload.length, last), payload.length);
    }

    /**
     * For a producer on the channel's event loop, never waiting: writes {@code data} (its ownership passes)
     * as one message, unflushed (the caller flushes the channel). False once this output has
     * {@link #MAX_IN_FLIGHT} bytes out: the producer should stop, and {@code resume} runs once (on the event
     * loop) when half of that reached the socket or the connection failed.
     */
    boolean offer(ByteBuf data, Runnable resume) {
        int n = data.readableBytes();
        synchronized (this) {
            inFlight += n;
        }
        send(framer.frame(channel, data, false), n, false);
        synchronized (this) {
            if (inFlight < MAX_IN_FLIGHT || failed) {
                return true;
            }
            this.resume = resume;
            return false;
        }
    }

    private ChannelFuture send(Object message, int n) {
        return send(message, n, true);
    }

    private ChannelFuture send(Object message, int n, boolean flush) {
        serverInFlight.addAndGet(n);
        ChannelFuture written = flush ? channel.writeAndFlush(message) : channel.write(message);
        return written.addListener((ChannelFutureListener) f -> {
            serverInFlight.addAndGet(-n);
            Runnable r = null;
            synchronized (this) {
                inFlight -= n;
                if (!f.isSuccess()) {
                    failed = true;
                }
                if (resume != null && (failed || inFlight <= MAX_IN_FLIGHT / 2)) {
                    r = resume;
                    resume = null;
                }
                notifyAll();
            }
            if (r != null) {
                r.run();
            }
        });
    }

    /** The connection closed: waiting writers fail now. */
    synchronized void wake() {
        notifyAll();
    }
}
