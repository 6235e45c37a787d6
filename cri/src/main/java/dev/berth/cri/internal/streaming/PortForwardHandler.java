package dev.berth.cri.internal.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Port-forward over WebSocket: for the i-th requested port, channel 2i carries the connection's bytes and
 * 2i+1 its errors; the first frame the server sends on each channel is the port (2 bytes, little endian).
 * Each port gets one connection, made by a relay process inside the pod's network namespace; the stream
 * closes once every connection has ended, and the relays die when the client goes away.
 */
final class PortForwardHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
    private static final Logger LOG = LoggerFactory.getLogger(PortForwardHandler.class);

    private final WebSocketServerHandshaker handshaker;
    private final StreamRequest.PortForward request;
    private final List<Integer> ports;
    private final StreamBackend backend;
    private final ExecutorService pumps;
    private final FrameOutput.WritableSignal signal = new FrameOutput.WritableSignal();
    private final List<StdinPipe> toPod = new ArrayList<>();
    private final List<Process> relays = new ArrayList<>();
    private AtomicInteger open;

    PortForwardHandler(WebSocketServerHandshaker handshaker, StreamRequest.PortForward request, List<Integer> ports,
                       StreamBackend backend, ExecutorService pumps) {
        this.handshaker = handshaker;
        this.request = request;
        this.ports = List.copyOf(ports);
        this.backend = backend;
        this.pumps = pumps;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        open = new AtomicInteger(ports.size());
        for (int i = 0; i < ports.size(); i++) {
            int port = ports.get(i);
            byte[] prefix = {(byte) (port & 0xff), (byte) (port >> 8)};
            FrameOutput data = new FrameOutput(ch, 2 * i, signal);
            FrameOutput error = new FrameOutput(ch, 2 * i + 1, signal);
            data.frame(prefix);
            error.frame(prefix);
            StdinPipe in = new StdinPipe(paused -> ch.config().setAutoRead(!paused));
            toPod.add(in);
            Process relay;
            try {
                relay = new ProcessBuilder(backend.portForwardRelay(request.sandboxId(), port)).start();
            } catch (IOException | RuntimeException e) {
                error.frame(("error forwarding port " + port + " to pod " + request.sandboxId() + ": " + e.getMessage())
                        .getBytes(StandardCharsets.UTF_8));
                done(ch);
                continue;
            }
            synchronized (relays) {
                relays.add(relay);
            }
            pumps.execute(() -> copyIn(in, relay));
            pumps.execute(() -> copyOut(relay, port, data, error, ch));
        }
        if (ports.isEmpty()) {
            ch.writeAndFlush(new CloseWebSocketFrame(1000, "no ports")).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private static void copyIn(StdinPipe in, Process relay) {
        byte[] buf = new byte[FrameOutput.MAX_FRAME];
        try (OutputStream out = relay.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                out.flush(); // the process's stdin is buffered: a request must reach the pod now
            }
        } catch (IOException e) {
            // the relay or the client went away; the other side notices
        }
    }

    private void copyOut(Process relay, int port, FrameOutput data, FrameOutput error, Channel ch) {
        byte[] buf = new byte[FrameOutput.MAX_FRAME];
        try (InputStream out = relay.getInputStream()) {
            int n;
            while ((n = out.read(buf)) >= 0) {
                data.write(buf, 0, n);
            }
            int code = relay.waitFor();
            String why = new String(relay.getErrorStream().readNBytes(4096), StandardCharsets.UTF_8).trim();
            if (code != 0 && ch.isActive()) {
                error.frame(("error forwarding port " + port + " to pod " + request.sandboxId() + ": exit status "
                        + code + (why.isEmpty() ? "" : ": " + why)).getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            relay.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            relay.destroyForcibly();
        }
        done(ch);
    }

    private void done(Channel ch) {
        if (open.decrementAndGet() == 0 && ch.isActive()) {
            ch.writeAndFlush(new CloseWebSocketFrame(1000, "")).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        if (frame instanceof CloseWebSocketFrame close) {
            handshaker.close(ctx.channel(), close.retain());
            return;
        }
        if (frame instanceof PingWebSocketFrame) {
            ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retain()));
            return;
        }
        if (!(frame instanceof BinaryWebSocketFrame)) {
            return;
        }
        ByteBuf buf = frame.content();
        if (!buf.isReadable()) {
            return;
        }
        int channel = buf.readUnsignedByte();
        if (channel % 2 != 0 || channel / 2 >= toPod.size()) {
            return; // nothing to do with errors from the client or unknown channels
        }
        toPod.get(channel / 2).offer(ByteBufUtil.getBytes(buf));
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        signal.changed();
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        signal.changed();
        for (StdinPipe p : toPod) {
            p.close();
        }
        synchronized (relays) {
            for (Process p : relays) {
                p.destroyForcibly();
            }
        }
        super.channelInactive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            ctx.close();
        } else {
            super.userEventTriggered(ctx, evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("port-forward {} failed: {}", request, cause.toString());
        ctx.close();
    }
}
