package dev.berth.cri.internal.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Port-forward over WebSocket: for the i-th requested port, channel 2i carries the connection's bytes and
 * 2i+1 its errors; the first frame the server sends on each channel is the port (2 bytes, little endian).
 * Each port gets one connection ({@link PortRelay}); the stream closes once every connection has ended,
 * and the relays die when the client goes away.
 */
final class PortForwardHandler extends SimpleChannelInboundHandler<BinaryWebSocketFrame> {
    private static final Logger LOG = LoggerFactory.getLogger(PortForwardHandler.class);

    private final StreamRequest.PortForward request;
    private final List<Integer> ports;
    private final StreamContext context;
    private final List<PortRelay> relays = new ArrayList<>();
    private AtomicInteger open;

    PortForwardHandler(StreamRequest.PortForward request, List<Integer> ports, StreamContext context) {
        this.request = request;
        this.ports = List.copyOf(ports);
        this.context = context;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        open = new AtomicInteger(ports.size());
        for (int i = 0; i < ports.size(); i++) {
            int port = ports.get(i);
            byte[] prefix = {(byte) (port & 0xff), (byte) (port >> 8)};
            FrameOutput data = context.wsOutput(ch, 2 * i);
            FrameOutput error = context.wsOutput(ch, 2 * i + 1);
            data.frame(prefix, false);
            error.frame(prefix, false);
            relays.add(PortRelay.start(context, request.sandboxId(), port, ch, data,
                    message -> error.frame(message.getBytes(StandardCharsets.UTF_8), false), () -> done(ch)));
        }
        if (ports.isEmpty()) {
            ch.writeAndFlush(new CloseWebSocketFrame(1000, "no ports")).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void done(Channel ch) {
        if (open.decrementAndGet() == 0 && ch.isActive()) {
            ch.writeAndFlush(new CloseWebSocketFrame(1000, "")).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, BinaryWebSocketFrame frame) {
        ByteBuf buf = frame.content();
        if (!buf.isReadable()) {
            return;
        }
        int channel = buf.readUnsignedByte();
        if (channel % 2 != 0 || channel / 2 >= relays.size()) {
            return; // nothing to do with errors from the client or unknown channels
        }
        relays.get(channel / 2).offer(ByteBufUtil.getBytes(buf));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        relays.forEach(PortRelay::kill);
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("port-forward {} failed: {}", request, cause.toString());
        ctx.close();
    }
}
