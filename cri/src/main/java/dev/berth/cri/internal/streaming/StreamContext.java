package dev.berth.cri.internal.streaming;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every stream handler of one server shares: the runtime behind the streams, the threads that pump
 * bytes between processes and connections (never the event loop), and the count of bytes written to
 * clients but not yet handed to their sockets.
 */
record StreamContext(StreamBackend backend, ExecutorService pumps, AtomicLong inFlight) {
    FrameOutput.Framer wsChannel(int number) {
        return new FrameOutput.Framer() {
            @Override
            public Object frame(io.netty.channel.Channel ch, byte[] b, int off, int len, boolean last) {
                var buf = ch.alloc().buffer(len + 1);
                buf.writeByte(number).writeBytes(b, off, len);
                return new io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame(buf);
            }

            @Override
            public Object frame(io.netty.channel.Channel ch, io.netty.buffer.ByteBuf data, boolean last) {
                var channel = ch.alloc().buffer(1).writeByte(number);
                return new io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame(
                        io.netty.buffer.Unpooled.wrappedBuffer(channel, data));
            }
        };
    }

    FrameOutput wsOutput(io.netty.channel.Channel ch, int number) {
        return new FrameOutput(ch, wsChannel(number), inFlight);
    }
}
