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
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Redeems the token in a request's path and upgrades the connection to the stream the token stands for:
 * WebSocket ({@code Upgrade: websocket}, subprotocol in {@code Sec-WebSocket-Protocol}) or SPDY/3.1
 * ({@code Upgrade: SPDY/3.1}, subprotocol in {@code X-Stream-Protocol-Version}).
 */
final class HttpRouter extends SimpleChannelInboundHandler<FullHttpRequest> {
    static final String V5 = "v5.channel.k8s.io";
    static final String V4 = "v4.channel.k8s.io";
    static final String V3 = "v3.channel.k8s.io";
    static final String V2 = "v2.channel.k8s.io";
    static final String V1 = "channel.k8s.io";
    static final String PORT_FORWARD = "portforward.k8s.io";
    static final String SPDY = "SPDY/3.1";
    static final String STREAM_PROTOCOL_HEADER = "X-Stream-Protocol-Version";
    static final int MAX_MESSAGE = 4 << 20;

    private final Tokens tokens;
    private final StreamContext context;

    HttpRouter(Tokens tokens, StreamContext context) {
        this.tokens = tokens;
        this.context = context;
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
        if (req.headers().containsValue(HttpHeaderNames.UPGRADE, SPDY, true)) {
            upgradeToSpdy(ctx, req, uri, parts[1]);
            return;
        }
        if (!req.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            respond(ctx, HttpResponseStatus.BAD_REQUEST, "streams need an upgrade to WebSocket"
                    + " (v5.channel.k8s.io, v4.channel.k8s.io, channel.k8s.io) or to SPDY/3.1");
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
            ctx.pipeline().addLast(new WebSocketFrameAggregator(MAX_MESSAGE), new WebSocketControl(handshaker));
            if (request instanceof StreamRequest.PortForward pf) {
                ctx.pipeline().addLast(new PortForwardHandler(pf, ports(uri, pf), context));
            } else {
                ctx.pipeline().addLast(new ProcessStreamHandler(protocol == null ? V1 : protocol, request, context));
            }
            ctx.pipeline().remove(HttpRouter.this);
        });
    }

    /**
     * Answers 101 with the chosen subprotocol and turns the connection into a SPDY/3.1 session. The
     * subprotocol is the most recent one the client offers; a client offering none gets the original
     * {@code channel.k8s.io} (or port-forward) protocol, one offering only unknown ones a 403.
     */
    private void upgradeToSpdy(ChannelHandlerContext ctx, FullHttpRequest req, QueryStringDecoder uri, String kind) {
        List<String> supported = kind.equals("portforward") ? List.of(PORT_FORWARD) : List.of(V4, V3, V2, V1);
        List<String> offered = new ArrayList<>();
        for (String v : req.headers().getAll(STREAM_PROTOCOL_HEADER)) {
            for (String one : v.split(",")) {
                if (!one.isBlank()) {
                    offered.add(one.trim());
                }
            }
        }
        String protocol = offered.isEmpty() ? supported.get(supported.size() - 1)
                : supported.stream().filter(offered::contains).findFirst().orElse(null);
        if (protocol == null) {
            respond(ctx, HttpResponseStatus.FORBIDDEN, "none of the offered stream protocols " + offered
                    + " is supported; this server speaks " + supported);
            return;
        }
        Optional<StreamRequest> found = tokens.redeem(uri.path().split("/")[2]);
        if (found.isEmpty()) {
            respond(ctx, HttpResponseStatus.NOT_FOUND, "unknown, used or expired streaming token");
            return;
        }
        StreamRequest request = found.get();
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE)
                .set(HttpHeaderNames.UPGRADE, SPDY)
                .set(STREAM_PROTOCOL_HEADER, protocol);
        // the response is encoded by the HTTP codec right here, on this event loop, so the codec can go next
        ctx.writeAndFlush(res);
        ChannelPipeline p = ctx.pipeline();
        p.addLast(request instanceof StreamRequest.PortForward pf ? new SpdyPortForwardHandler(pf, context)
                : new SpdyProcessHandler(protocol, request, context));
        p.remove(HttpObjectAggregator.class);
        p.remove(this);
        p.replace(HttpServerCodec.class, "spdy", new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
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
