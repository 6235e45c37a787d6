package dev.berth.bench.cri;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynStreamFrame;
import io.netty.handler.codec.spdy.DefaultSpdyWindowUpdateFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyPingFrame;
import io.netty.handler.codec.spdy.SpdyRstStreamFrame;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bench's Kubernetes SPDY/3.1 stream client, as kubectl/crictl use against a CRI streaming server: an
 * HTTP upgrade with {@code X-Stream-Protocol-Version}, then client-opened streams with headers. Like Go's
 * spdystream it keeps no send window; what it receives it acknowledges with WINDOW_UPDATEs once per read
 * burst (harmless to a peer that ignores them). Received bytes go to a per-stream {@link Sink} on the event
 * loop; the frame decoder hands DATA out in chunks of up to 64 KiB, so the client is not what limits a
 * transfer.
 */
final class SpdyClient implements AutoCloseable {
    private static final EventLoopGroup LOOP = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    /** What a stream receives, called on the event loop; {@code end} once (FIN, RST or connection closed). */
    interface Sink {
        void data(ByteBuf bytes);

        void end();
    }

    final Channel channel;
    final int status;
    final String protocol;
    private final Map<Integer, Sink> sinks = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);

    private SpdyClient(Channel channel, int status, String protocol) {
        this.channel = channel;
        this.status = status;
        this.protocol = protocol;
    }

    /** Upgrades {@code url} to SPDY/3.1 offering {@code protocol}; fails unless the server answered 101. */
    static SpdyClient open(String url, String protocol) {
        URI uri = URI.create(url);
        CompletableFuture<FullHttpResponse> answer = new CompletableFuture<>();
        CompletableFuture<SpdyClient> client = new CompletableFuture<>();
        Channel ch = new Bootstrap().group(LOOP).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        c.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20),
                                new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse res) {
                                        answer.complete(res.retainedDuplicate());
                                        if (res.status().code() != 101) {
                                            return;
                                        }
                                        var p = ctx.pipeline();
                                        p.addLast(new Frames(client));
                                        p.remove(HttpObjectAggregator.class);
                                        p.remove(this);
                                        p.replace(HttpClientCodec.class, "spdy",
                                                new SpdyFrameCodec(SpdyVersion.SPDY_3_1, 64 << 10, 16 << 10, 6, 15, 8));
                                    }
                                });
                    }
                }).connect(uri.getHost(), uri.getPort()).syncUninterruptibly().channel();
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, uri.getRawPath()
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()), Unpooled.EMPTY_BUFFER);
        req.headers().set(HttpHeaderNames.HOST, uri.getHost() + ":" + uri.getPort())
                .set(HttpHeaderNames.CONNECTION, "Upgrade").set(HttpHeaderNames.UPGRADE, "SPDY/3.1")
                .set(HttpHeaderNames.CONTENT_LENGTH, 0).add("X-Stream-Protocol-Version", protocol);
        ch.writeAndFlush(req);
        FullHttpResponse res = answer.orTimeout(60, TimeUnit.SECONDS).join();
        try {
            SpdyClient c = new SpdyClient(ch, res.status().code(), res.headers().get("X-Stream-Protocol-Version"));
            ch.closeFuture().addListener(f -> c.sinks.keySet().forEach(c::ended));
            client.complete(c);
            if (c.status != 101) {
                ch.close();
                throw new IllegalStateException("upgrade of " + url + " answered " + res.status() + ": "
                        + res.content().toString(java.nio.charset.StandardCharsets.UTF_8));
            }
            return c;
        } finally {
            res.release();
        }
    }

    private void ended(int id) {
        Sink s = sinks.remove(id);
        if (s != null) {
            s.end();
        }
    }

    /** The frames after the upgrade. */
    private static final class Frames extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<SpdyClient> client;
        private final Map<Integer, Integer> unacknowledged = new HashMap<>();

        Frames(CompletableFuture<SpdyClient> client) {
            this.client = client;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            SpdyClient c = client.join();
            try {
                if (msg instanceof SpdyDataFrame d) {
                    int n = d.content().readableBytes();
                    if (n > 0) {
                        unacknowledged.merge(d.streamId(), n, Integer::sum);
                        unacknowledged.merge(0, n, Integer::sum);
                        Sink s = c.sinks.get(d.streamId());
                        if (s != null) {
                            s.data(d.content());
                        }
                    }
                    if (d.isLast()) {
                        c.ended(d.streamId());
                    }
                } else if (msg instanceof SpdyRstStreamFrame r) {
                    c.ended(r.streamId());
                } else if (msg instanceof SpdyPingFrame ping && ping.id() % 2 == 0) {
                    ctx.writeAndFlush(ping);
                    msg = null;
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (!unacknowledged.isEmpty()) {
                unacknowledged.forEach((id, n) -> ctx.write(new DefaultSpdyWindowUpdateFrame(id, n)));
                unacknowledged.clear();
                ctx.flush();
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!(cause instanceof java.net.SocketException)) { // a server closing after the exec resets: expected
                System.err.println("bench: SPDY client connection failed: " + cause);
            }
            ctx.close();
        }
    }

    /** Opens a stream with these headers; {@code fin}: the client sends nothing on it. */
    int stream(Map<String, String> headers, boolean fin, Sink sink) {
        int id = nextId.getAndAdd(2);
        sinks.put(id, sink);
        SpdySynStreamFrame syn = new DefaultSpdySynStreamFrame(id, 0, (byte) 0);
        headers.forEach((k, v) -> syn.headers().set(k.toLowerCase(Locale.ROOT), v));
        syn.setLast(fin);
        channel.writeAndFlush(syn);
        if (!channel.isActive()) {
            ended(id);
        }
        return id;
    }

    void send(int id, byte[] data) {
        channel.writeAndFlush(new DefaultSpdyDataFrame(id, Unpooled.wrappedBuffer(data)));
    }

    /** Stops the client's event loop (non-daemon threads would keep the JVM). */
    static void shutdown() {
        LOOP.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(30, TimeUnit.SECONDS);
    }
}
