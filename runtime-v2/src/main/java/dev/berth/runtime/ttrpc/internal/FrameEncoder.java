package dev.berth.runtime.ttrpc.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/** Writes a {@link Frame} as header + payload. Size limits are checked by the sender before this. */
final class FrameEncoder extends MessageToByteEncoder<Frame> {
    FrameEncoder() {
        super(Frame.class);
    }

    static void encode(Frame frame, ByteBuf out) {
        out.writeInt(frame.payload().length);
        out.writeInt(frame.streamId());
        out.writeByte(frame.type());
        out.writeByte(frame.flags());
        out.writeBytes(frame.payload());
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Frame frame, ByteBuf out) {
        encode(frame, out);
    }
}
