package dev.berth.cri.internal.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;

/**
 * Writes bytes as binary WebSocket frames prefixed by a channel number. A writer waits while the
 * connection is not writable (the client reads slower than the process writes), so the process blocks on
 * its pipe instead of this JVM buffering without bound; once the connection is gone, writes fail.
 */
final class FrameOutput extends OutputStream {
    static final int MAX_FRAME = 32 << 10;

    private final Channel channel;
    private final int number;
    private final WritableSignal signal;

    /** Woken by the connection's handler whenever writability changes or it closes. */
    static final class WritableSignal {
        synchronized void changed() {
            notifyAll();
        }

        synchronized void await(Channel ch) throws InterruptedIOException {
            try {
                while (ch.isActive() && !ch.isWritable()) {
                    wait(1000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for the client to read");
            }
        }
    }

    FrameOutput(Channel channel, int number, WritableSignal signal) {
        this.channel = channel;
        this.number = number;
        this.signal = signal;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            signal.await(channel);
            if (!channel.isActive()) {
                throw new IOException("the streaming client is gone");
            }
            int n = Math.min(len, MAX_FRAME);
            ByteBuf buf = channel.alloc().buffer(n + 1);
            buf.writeByte(number).writeBytes(b, off, n);
            channel.writeAndFlush(new BinaryWebSocketFrame(buf));
            off += n;
            len -= n;
        }
    }

    /** Writes one frame with exactly these bytes after the channel number (also when empty). */
    void frame(byte[] payload) {
        ByteBuf buf = channel.alloc().buffer(payload.length + 1);
        buf.writeByte(number).writeBytes(payload);
        channel.writeAndFlush(new BinaryWebSocketFrame(buf));
    }
}
