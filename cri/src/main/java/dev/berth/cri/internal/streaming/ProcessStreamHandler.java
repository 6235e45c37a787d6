package dev.berth.cri.internal.streaming;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
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
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exec or attach over WebSocket: channel 0 stdin, 1 stdout, 2 stderr, 3 the final status (a
 * metav1.Status JSON from v4 on), 4 terminal resize ({@code {"Width":..,"Height":..}}), and with v5 255 to
 * close one of the client's streams (stdin EOF). The client going away ends the session.
 */
final class ProcessStreamHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessStreamHandler.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int STDIN = 0;
    static final int STDOUT = 1;
    static final int STDERR = 2;
    static final int ERROR = 3;
    static final int RESIZE = 4;
    static final int CLOSE = 255;

    private final WebSocketServerHandshaker handshaker;
    private final String protocol;
    private final StreamRequest request;
    private final StreamBackend backend;
    private final ExecutorService pumps;
    private final FrameOutput.WritableSignal signal = new FrameOutput.WritableSignal();
    private StdinPipe stdin;
    private volatile StreamBackend.Session session;
    private volatile boolean gone;

    ProcessStreamHandler(WebSocketServerHandshaker handshaker, String protocol, StreamRequest request,
                         StreamBackend backend, ExecutorService pumps) {
        this.handshaker = handshaker;
        this.protocol = protocol;
        this.request = request;
        this.backend = backend;
        this.pumps = pumps;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        boolean tty;
        boolean wantIn;
        boolean wantOut;
        boolean wantErr;
        if (request instanceof StreamRequest.Exec e) {
            tty = e.tty();
            wantIn = e.stdin();
            wantOut = e.stdout();
            wantErr = e.stderr();
        } else {
            StreamRequest.Attach a = (StreamRequest.Attach) request;
            tty = a.tty();
            wantIn = a.stdin();
            wantOut = a.stdout();
            wantErr = a.stderr();
        }
        var ch = ctx.channel();
        stdin = wantIn ? new StdinPipe(paused -> ch.config().setAutoRead(!paused)) : null;
        FrameOutput out = wantOut ? new FrameOutput(ch, STDOUT, signal) : null;
        FrameOutput err = wantErr && !tty ? new FrameOutput(ch, STDERR, signal) : null;
        pumps.execute(() -> {
            StreamBackend.Session s;
            try {
                s = request instanceof StreamRequest.Exec e ? backend.exec(e, stdin, out, err)
                        : backend.attach((StreamRequest.Attach) request, stdin, out, err);
            } catch (RuntimeException e) {
                LOG.debug("stream {} failed to start: {}", request, e.toString());
                finish(ch, failure(e.getMessage(), "InternalError", null));
                return;
            }
            session = s;
            if (gone) {
                s.end();
            }
            s.exit().whenComplete((code, error) -> {
                if (error != null) {
                    finish(ch, failure(error.getMessage(), "InternalError", null));
                } else if (code == 0) {
                    finish(ch, success());
                } else {
                    finish(ch, failure("command terminated with non-zero exit code: exit status " + code,
                            "NonZeroExitCode", code));
                }
            });
        });
    }

    private void finish(io.netty.channel.Channel ch, ObjectNode status) {
        if (!ch.isActive()) {
            return;
        }
        byte[] payload;
        if (protocol.equals(HttpRouter.V1)) {
            // the original protocol carries only an error message, nothing on success
            payload = "Success".equals(status.path("status").asText()) ? null
                    : status.path("message").asText().getBytes(StandardCharsets.UTF_8);
        } else {
            payload = status.toString().getBytes(StandardCharsets.UTF_8);
        }
        if (payload != null) {
            new FrameOutput(ch, ERROR, signal).frame(payload);
        }
        ch.writeAndFlush(new CloseWebSocketFrame(1000, "")).addListener(ChannelFutureListener.CLOSE);
    }

    static ObjectNode success() {
        ObjectNode s = JSON.createObjectNode();
        s.putObject("metadata");
        s.put("status", "Success");
        return s;
    }

    static ObjectNode failure(String message, String reason, Integer exitCode) {
        ObjectNode s = JSON.createObjectNode();
        s.putObject("metadata");
        s.put("status", "Failure");
        s.put("message", message == null ? "stream failed" : message);
        s.put("reason", reason);
        if (exitCode != null) {
            ObjectNode cause = s.putObject("details").putArray("causes").addObject();
            cause.put("reason", "ExitCode");
            cause.put("message", String.valueOf(exitCode));
        }
        return s;
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
            return; // text frames belong to the base64 protocols, which are not offered
        }
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
            case RESIZE -> resize(data);
            case CLOSE -> {
                if (protocol.equals(HttpRouter.V5) && data.length > 0 && data[0] == STDIN && stdin != null) {
                    stdin.closeWrite();
                }
            }
            default -> LOG.debug("ignored a frame on channel {}", channel);
        }
    }

    private void resize(byte[] data) {
        StreamBackend.Session s = session;
        if (s == null || data.length == 0) {
            return;
        }
        try {
            JsonNode size = JSON.readTree(data);
            int w = size.path("Width").asInt(0);
            int h = size.path("Height").asInt(0);
            if (w > 0 && h > 0) {
                pumps.execute(() -> s.resize(w, h)); // a call to the shim: never on the event loop
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("ignored a resize: {}", e.toString());
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        signal.changed();
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        gone = true;
        signal.changed();
        if (stdin != null) {
            stdin.closeWrite();
        }
        StreamBackend.Session s = session;
        if (s != null) {
            pumps.execute(s::end);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            LOG.debug("closing idle stream {}", request);
            ctx.close();
        } else {
            super.userEventTriggered(ctx, evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("stream {} failed: {}", request, cause.toString());
        ctx.close();
    }
}
