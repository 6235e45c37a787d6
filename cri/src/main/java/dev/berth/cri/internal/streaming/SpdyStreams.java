package dev.berth.cri.internal.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;
import io.netty.handler.codec.spdy.DefaultSpdyRstStreamFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynReplyFrame;
import io.netty.handler.codec.spdy.DefaultSpdyWindowUpdateFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyHeaders;
import io.netty.handler.codec.spdy.SpdyPingFrame;
import io.netty.handler.codec.spdy.SpdyRstStreamFrame;
import io.netty.handler.codec.spdy.SpdyStreamStatus;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of a Kubernetes SPDY/3.1 connection over netty's SPDY frame codec: the client opens every
 * stream (odd ids), each is answered with a SYN_REPLY, pings are echoed and what arrives is acknowledged
 * with WINDOW_UPDATEs at once (backpressure on what arrives is TCP's: the connection stops reading).
 *
 * <p>Not netty's SpdySessionHandler: it holds outgoing data until the client grants window, and the
 * Kubernetes clients (spdystream) never send WINDOW_UPDATE, so a stream would stall after 64 KiB. What
 * goes out is bounded by {@link FrameOutput} instead.
 */
abstract class SpdyStreams extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(SpdyStreams.class);
    static final String STREAM_TYPE = "streamtype";

    private int lastStreamId;

    /** A new stream from the client; {@code last}: the client will send nothing on it. */
    abstract void stream(ChannelHandlerContext ctx, int id, SpdyHeaders headers, boolean last);

    /** Bytes from the client on a stream; {@code last}: the client's side of it ends. */
    abstract void data(ChannelHandlerContext ctx, int id, byte[] bytes, boolean last);

    /** The client reset a stream. */
    abstract void reset(ChannelHandlerContext ctx, int id);

    @Override
    public final void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof SpdySynStreamFrame syn) {
                int id = syn.streamId();
                if (id % 2 == 0 || id <= lastStreamId) {
                    ctx.writeAndFlush(new DefaultSpdyRstStreamFrame(id, SpdyStreamStatus.PROTOCOL_ERROR));
                    return;
                }
                lastStreamId = id;
                // never an empty header set: netty encodes it as an empty block, which no peer can inflate
                DefaultSpdySynReplyFrame reply = new DefaultSpdySynReplyFrame(id);
                String type = syn.headers().getAsString(STREAM_TYPE);
                reply.headers().set(STREAM_TYPE, type == null ? "unknown" : type);
                ctx.writeAndFlush(reply);
                stream(ctx, id, syn.headers(), syn.isLast());
            } else if (msg instanceof SpdyDataFrame d) {
                int n = d.content().readableBytes();
                if (n > 0) {
                    ctx.write(new DefaultSpdyWindowUpdateFrame(d.streamId(), n));
                    ctx.writeAndFlush(new DefaultSpdyWindowUpdateFrame(0, n));
                }
                data(ctx, d.streamId(), ByteBufUtil.getBytes(d.content()), d.isLast());
            } else if (msg instanceof SpdyRstStreamFrame rst) {
                reset(ctx, rst.streamId());
            } else if (msg instanceof SpdyPingFrame ping && ping.id() % 2 == 1) {
                ctx.writeAndFlush(ping); // the client's ping; the server sends none
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /** An output whose bytes are DATA frames on stream {@code id}. */
    static FrameOutput output(StreamContext context, Channel ch, int id) {
        return new FrameOutput(ch, new FrameOutput.Framer() {
            @Override
            public Object frame(Channel c, byte[] b, int off, int len, boolean last) {
                return frame(c, c.alloc().buffer(len).writeBytes(b, off, len), last);
            }

            @Override
            public Object frame(Channel c, ByteBuf data, boolean last) {
                SpdyDataFrame f = new DefaultSpdyDataFrame(id, data);
                f.setLast(last);
                return f;
            }
        }, context.inFlight());
    }

    static void resetStream(Channel ch, int id) {
        ch.writeAndFlush(new DefaultSpdyRstStreamFrame(id, SpdyStreamStatus.CANCEL));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("SPDY stream connection failed: {}", cause.toString());
        ctx.close();
    }
}
