package dev.berth.cri.internal.streaming;

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
    }

    private final Channel channel;
    private final Framer framer;
    private final AtomicLong serverInFlight;
    private long inFlight;
    private boolean failed;

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

    private ChannelFuture send(Object message, int n) {
        serverInFlight.addAndGet(n);
        return channel.writeAndFlush(message).addListener((ChannelFutureListener) f -> {
            serverInFlight.addAndGet(-n);
            synchronized (this) {
                inFlight -= n;
                if (!f.isSuccess()) {
                    failed = true;
                }
                notifyAll();
            }
        });
    }

    /** The connection closed: waiting writers fail now. */
    synchronized void wake() {
        notifyAll();
    }
}
