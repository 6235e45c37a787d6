package dev.berth.cri.internal.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exec or attach over WebSocket: channel 0 stdin, 1 stdout, 2 stderr, 3 the final status (a
 * metav1.Status JSON from v4 on), 4 terminal resize ({@code {"Width":..,"Height":..}}), and with v5 255 to
 * close one of the client's streams (stdin EOF). The client going away ends the session.
 */
final class ProcessStreamHandler extends SimpleChannelInboundHandler<BinaryWebSocketFrame> {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessStreamHandler.class);
    static final int STDIN = 0;
    static final int STDOUT = 1;
    static final int STDERR = 2;
    static final int ERROR = 3;
    static final int RESIZE = 4;
    static final int CLOSE = 255;

    private final String protocol;
    private final StreamContext context;
    private final ProcessSession session;
    private StdinPipe stdin;

    ProcessStreamHandler(String protocol, StreamRequest request, StreamContext context) {
        this.protocol = protocol;
        this.context = context;
        this.session = new ProcessSession(request, context.backend(), context.pumps());
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        stdin = session.wantsStdin() ? new StdinPipe(paused -> ch.config().setAutoRead(!paused)) : null;
        FrameOutput out = session.wantsStdout() ? context.wsOutput(ch, STDOUT) : null;
        FrameOutput err = session.wantsStderr() ? context.wsOutput(ch, STDERR) : null;
        session.start(stdin, out, err, status -> {
            if (!ch.isActive()) {
                return;
            }
            byte[] payload = ProcessSession.errorPayload(status, !protocol.equals(HttpRouter.V1));
            if (payload != null) {
                context.wsOutput(ch, ERROR).frame(payload, true);
            }
            GracefulClose.after(ch.writeAndFlush(new CloseWebSocketFrame(1000, "")));
        });
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, BinaryWebSocketFrame frame) {
        ByteBuf buf = frame.content();
        if (!buf.isReadable()) {
            return;
        }
        int channel = buf.readUnsignedByte();
        byte[] data = ByteBufUtil.getBytes(buf);
        switch (channel) {
            case STDIN -> {
                if (stdin != null) {
                    stdin.offer(data);
                }
            }
            case RESIZE -> session.resize(data);
            case CLOSE -> {
                if (protocol.equals(HttpRouter.V5) && data.length > 0 && data[0] == STDIN && stdin != null) {
                    stdin.closeWrite();
                }
            }
            default -> LOG.debug("ignored a frame on channel {}", channel);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (stdin != null) {
            stdin.closeWrite();
        }
        session.end();
        session.closed();
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("stream {} failed: {}", session, cause.toString());
        ctx.close();
    }
}
