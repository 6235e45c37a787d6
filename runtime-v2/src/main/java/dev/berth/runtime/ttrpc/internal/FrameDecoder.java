package dev.berth.runtime.ttrpc.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits the byte stream into {@link Frame}s. A frame announcing more than {@link Frame#MAX_PAYLOAD}
 * bytes is skipped without buffering it and reported as an {@link OversizedFrame}, so the peer can be
 * answered on that stream instead of the connection being dropped.
 */
final class FrameDecoder extends ByteToMessageDecoder {
    private long discarding;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            if (discarding > 0) {
                int skip = (int) Math.min(discarding, in.readableBytes());
                in.skipBytes(skip);
                discarding -= skip;
                if (discarding > 0) {
                    return;
                }
            }
            if (in.readableBytes() < Frame.HEADER_LENGTH) {
                return;
            }
            int start = in.readerIndex();
            long length = in.getUnsignedInt(start);
            int streamId = in.getInt(start + 4);
            byte type = in.getByte(start + 8);
            byte flags = in.getByte(start + 9);
            if (length > Frame.MAX_PAYLOAD) {
                in.skipBytes(Frame.HEADER_LENGTH);
                discarding = length;
                out.add(new OversizedFrame(streamId, type, length));
                continue;
            }
            if (in.readableBytes() < Frame.HEADER_LENGTH + length) {
                return;
            }
            in.skipBytes(Frame.HEADER_LENGTH);
            byte[] payload = new byte[(int) length];
            in.readBytes(payload);
            out.add(new Frame(streamId, type, flags, payload));
        }
    }
}
