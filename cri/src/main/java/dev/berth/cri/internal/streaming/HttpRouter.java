package dev.berth.cri.internal.streaming;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.timeout.IdleStateEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;

/** Redeems the token in a request's path and upgrades it to the WebSocket stream the token stands for. */
final class HttpRouter extends SimpleChannelInboundHandler<FullHttpRequest> {
    static final String V5 = "v5.channel.k8s.io";
    static final String V4 = "v4.channel.k8s.io";
    static final String V1 = "channel.k8s.io";
    static final int MAX_MESSAGE = 4 << 20;

    private final Tokens tokens;
    private final StreamBackend backend;
    private final ExecutorService pumps;

    HttpRouter(Tokens tokens, StreamBackend backend, ExecutorService pumps) {
        this.tokens = tokens;
        this.backend = backend;
        this.pumps = pumps;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        QueryStringDecoder uri = new QueryStringDecoder(req.uri());
        String[] parts = uri.path().split("/");
        if (parts.length != 3 || !List.of("exec", "attach", "portforward").contains(parts[1])) {
            respond(ctx, HttpResponseStatus.NOT_FOUND, "no such stream: " + uri.path());
            return;
        }
        if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.POST)) {
            respond(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "streams are opened with GET");
            return;
        }
        if (!req.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            respond(ctx, HttpResponseStatus.BAD_REQUEST, "this server streams over WebSocket only"
                    + " (v5.channel.k8s.io, v4.channel.k8s.io, channel.k8s.io); SPDY is not supported");
            return;
        }
        Optional<StreamRequest> found = tokens.redeem(parts[2]);
        if (found.isEmpty()) {
            respond(ctx, HttpResponseStatus.NOT_FOUND, "unknown, used or expired streaming token");
            return;
        }
        StreamRequest request = found.get();
        String protocols = request instanceof StreamRequest.PortForward ? V4 + "," + V1 : V5 + "," + V4 + "," + V1;
        WebSocketServerHandshakerFactory factory = new WebSocketServerHandshakerFactory(
                "ws://" + req.headers().get(HttpHeaderNames.HOST) + req.uri(), protocols,
                WebSocketDecoderConfig.newBuilder().maxFramePayloadLength(MAX_MESSAGE).allowExtensions(false).build());
        WebSocketServerHandshaker handshaker = factory.newHandshaker(req);
        if (handshaker == null) {
            WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
            return;
        }
        String requested = req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
        handshaker.handshake(ctx.channel(), req).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                f.channel().close();
                return;
            }
            String protocol = handshaker.selectedSubprotocol();
            if (protocol == null && requested != null && !requested.isBlank()) {
                f.channel().close(); // the client insisted on protocols we do not speak
                return;
            }
            ctx.pipeline().addLast(new WebSocketFrameAggregator(MAX_MESSAGE));
            if (request instanceof StreamRequest.PortForward pf) {
                ctx.pipeline().addLast(new PortForwardHandler(handshaker, pf, ports(uri, pf), backend, pumps));
            } else {
                ctx.pipeline().addLast(new ProcessStreamHandler(handshaker, protocol == null ? V1 : protocol,
                        request, backend, pumps));
            }
            ctx.pipeline().remove(HttpRouter.this);
        });
    }

    private static List<Integer> ports(QueryStringDecoder uri, StreamRequest.PortForward pf) {
        List<String> given = uri.parameters().getOrDefault("port", List.of());
        if (given.isEmpty()) {
            return pf.ports();
        }
        List<Integer> out = new ArrayList<>();
        for (String p : given) {
            for (String one : p.split(",")) {
                try {
                    int port = Integer.parseInt(one.trim());
                    if (port < 1 || port > 65535) {
                        throw new NumberFormatException();
                    }
                    out.add(port);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("invalid port \"" + one + "\"");
                }
            }
        }
        return out;
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
        if (ctx.channel().isActive() && cause instanceof IllegalArgumentException) {
            respond(ctx, HttpResponseStatus.BAD_REQUEST, cause.getMessage());
        } else {
            ctx.close();
        }
    }

    private static void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String message) {
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(message + "\n", StandardCharsets.UTF_8));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        HttpUtil.setContentLength(res, res.content().readableBytes());
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
    }
}
