package dev.berth.cri;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
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
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyRstStreamFrame;
import io.netty.handler.codec.spdy.SpdySessionHandler;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Kubernetes SPDY/3.1 stream client on netty's SPDY codec and session handler (which, unlike the Go
 * clients, keeps SPDY/3.1 flow control): upgrades with {@code X-Stream-Protocol-Version}, opens streams with
 * headers, collects what arrives per stream and notes which streams the server finished.
 */
final class SpdyStreamClient implements AutoCloseable {
    private static final EventLoopGroup LOOP = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());

    final Channel channel;
    final int status;
    final String protocol;
    final String body;
    final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final Map<Integer, ByteArrayOutputStream> received = new ConcurrentHashMap<>();
    private final Map<Integer, CompletableFuture<Void>> finished = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);

    private SpdyStreamClient(Channel channel, FullHttpResponse res) {
        this.channel = channel;
        this.status = res.status().code();
        this.protocol = res.headers().get("X-Stream-Protocol-Version");
        this.body = res.content().toString(StandardCharsets.UTF_8);
        channel.closeFuture().addListener(f -> {
            closed.complete(null);
            finished.values().forEach(s -> s.complete(null));
        });
    }

    /** Upgrades {@code url} to SPDY/3.1 offering {@code protocols}; {@link #status} says whether it worked. */
    static SpdyStreamClient open(String url, String... protocols) {
        URI uri = URI.create(url);
        CompletableFuture<FullHttpResponse> answer = new CompletableFuture<>();
        CompletableFuture<SpdyStreamClient> client = new CompletableFuture<>();
        Channel ch = new Bootstrap().group(LOOP).channel(NioSocketChannel.class)
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
                                        p.addLast(new SpdySessionHandler(SpdyVersion.SPDY_3_1, false));
                                        p.addLast(new Frames(client));
                                        p.remove(HttpObjectAggregator.class);
                                        p.remove(this);
                                        p.replace(HttpClientCodec.class, "spdy", new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
                                    }
                                });
                    }
                }).connect(uri.getHost(), uri.getPort()).syncUninterruptibly().channel();
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, uri.getRawPath()
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()), Unpooled.EMPTY_BUFFER);
        req.headers().set(HttpHeaderNames.HOST, uri.getHost() + ":" + uri.getPort())
                .set(HttpHeaderNames.CONNECTION, "Upgrade").set(HttpHeaderNames.UPGRADE, "SPDY/3.1")
                .set(HttpHeaderNames.CONTENT_LENGTH, 0);
        for (String p : protocols) {
            req.headers().add("X-Stream-Protocol-Version", p);
        }
        ch.writeAndFlush(req);
        FullHttpResponse res = answer.orTimeout(60, TimeUnit.SECONDS).join();
        try {
            SpdyStreamClient c = new SpdyStreamClient(ch, res);
            client.complete(c);
            if (c.status != 101) {
                ch.close();
            }
            return c;
        } finally {
            res.release();
        }
    }

    /** Frames after the upgrade, handed to the client once it exists. */
    private static final class Frames extends SimpleChannelInboundHandler<Object> {
        private final CompletableFuture<SpdyStreamClient> client;

        Frames(CompletableFuture<SpdyStreamClient> client) {
            this.client = client;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            SpdyStreamClient c = client.join();
            if (msg instanceof SpdyDataFrame d) {
                c.received.computeIfAbsent(d.streamId(), k -> new ByteArrayOutputStream())
                        .writeBytes(ByteBufUtil.getBytes(d.content()));
                if (d.isLast()) {
                    c.finishedFuture(d.streamId()).complete(null);
                }
            } else if (msg instanceof SpdyRstStreamFrame r) {
                c.finishedFuture(r.streamId()).complete(null);
            }
        }
    }

    private CompletableFuture<Void> finishedFuture(int id) {
        return finished.computeIfAbsent(id, k -> new CompletableFuture<>());
    }

    /** Opens a stream with these headers; {@code fin}: the client will send nothing on it. */
    int stream(Map<String, String> headers, boolean fin) {
        int id = nextId.getAndAdd(2);
        finishedFuture(id);
        SpdySynStreamFrame syn = new DefaultSpdySynStreamFrame(id, 0, (byte) 0);
        headers.forEach((k, v) -> syn.headers().set(k.toLowerCase(java.util.Locale.ROOT), v));
        syn.setLast(fin);
        channel.writeAndFlush(syn).syncUninterruptibly();
        return id;
    }

    void send(int id, byte[] data) {
        channel.writeAndFlush(new DefaultSpdyDataFrame(id, Unpooled.wrappedBuffer(data)));
    }

    void send(int id, String text) {
        send(id, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Ends the client's side of a stream. */
    void finish(int id) {
        channel.writeAndFlush(new DefaultSpdyDataFrame(id).setLast(true));
    }

    byte[] bytes(int id) {
        ByteArrayOutputStream b = received.get(id);
        if (b == null) {
            return new byte[0];
        }
        synchronized (b) {
            return b.toByteArray();
        }
    }

    String text(int id) {
        return new String(bytes(id), StandardCharsets.UTF_8);
    }

    /** Waits until the server finished the stream (or the connection closed). */
    void awaitFinished(int id) {
        finishedFuture(id).orTimeout(120, TimeUnit.SECONDS).join();
    }

    void awaitClose() {
        closed.orTimeout(120, TimeUnit.SECONDS).join();
    }

    /** Stops or resumes reading the socket, as a client that stops consuming output. */
    void reading(boolean on) {
        channel.config().setAutoRead(on);
    }

    /** Opens the streams an exec or attach uses, error first, as kubectl does. */
    Map<String, Integer> processStreams(List<String> types) {
        Map<String, Integer> ids = new java.util.LinkedHashMap<>();
        ids.put("error", stream(Map.of("streamType", "error"), true));
        for (String t : types) {
            ids.put(t, stream(Map.of("streamType", t), !t.equals("stdin") && !t.equals("resize")));
        }
        return ids;
    }

    /**
     * Drops the connection at once, as a client that goes away (past netty's session handler, which would
     * wait for every open stream to end first).
     */
    @Override
    public void close() {
        channel.pipeline().firstContext().close();
        channel.closeFuture().awaitUninterruptibly(30, TimeUnit.SECONDS);
    }
}
