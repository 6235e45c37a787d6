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
        return (ch, b, off, len, last) -> {
            var buf = ch.alloc().buffer(len + 1);
            buf.writeByte(number).writeBytes(b, off, len);
            return new io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame(buf);
        };
    }

    FrameOutput wsOutput(io.netty.channel.Channel ch, int number) {
        return new FrameOutput(ch, wsChannel(number), inFlight);
    }
}
