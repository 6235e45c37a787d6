package dev.berth.cri.internal.streaming;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.channel.ChannelHandlerContext;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server behind the CRI's Exec, Attach and PortForward URLs: {@code http://<addr>/exec/<token>},
 * {@code /attach/<token>}, {@code /portforward/<token>}, each token usable once within {@link
 * Settings#tokenTtl()}. Speaks the Kubernetes stream protocols over WebSocket ({@code v5.channel.k8s.io},
 * {@code v4.channel.k8s.io}, {@code channel.k8s.io}) and over SPDY/3.1 ({@code v4.channel.k8s.io} down to
 * {@code channel.k8s.io}, {@code portforward.k8s.io}). A connection that carries nothing either way for
 * {@link Settings#idleTimeout()} is closed. Thread-safe.
 */
public final class StreamingServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StreamingServer.class);

    /** Where to listen and how long tokens and quiet streams live. */
    public record Settings(InetSocketAddress address, Duration tokenTtl, Duration idleTimeout) {
    }

    private final EventLoopGroup group;
    private final Channel server;
    private final Tokens tokens;
    private final Duration tokenTtl;
    private final InetSocketAddress bound;
    private final ExecutorService pumps;
    private final AtomicLong inFlight = new AtomicLong();
    private volatile boolean closed;

    private StreamingServer(Settings settings, StreamBackend backend) {
        this.tokens = new Tokens(settings.tokenTtl(), Clock.systemUTC());
        this.tokenTtl = settings.tokenTtl();
        AtomicInteger n = new AtomicInteger();
        this.pumps = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "berth-cri-stream-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        // epoll where it works: a port-forward's socket taken over from its helper joins the stream's loop
        boolean epoll = Epoll.isAvailable();
        this.group = new MultiThreadIoEventLoopGroup(2, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        long idleMs = settings.idleTimeout().toMillis();
        StreamContext context = new StreamContext(backend, pumps, inFlight);
        try {
            this.server = new ServerBootstrap().group(group)
                    .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 << 10, 1 << 20))
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new IdleStateHandler(0, 0, idleMs, TimeUnit.MILLISECONDS) {
                                        @Override
                                        protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent e) {
                                            LOG.debug("closing idle stream connection {}", ctx.channel());
                                            ctx.close();
                                        }
                                    }, new HttpServerCodec(), new HttpObjectAggregator(64 << 10),
                                    new HttpRouter(tokens, context));
                        }
                    }).bind(settings.address()).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            pumps.shutdownNow();
            throw new dev.berth.api.UnavailableException("cannot listen for streams on " + settings.address()
                    + ": " + e.getMessage(), e);
        }
        this.bound = (InetSocketAddress) server.localAddress();
        LOG.info("CRI streaming server on http://{}", hostPort(bound));
    }

    public static StreamingServer start(Settings settings, StreamBackend backend) {
        return new StreamingServer(settings, backend);
    }

    /** The address actually bound (the port resolved when 0 was asked for). */
    public InetSocketAddress address() {
        return bound;
    }

    /**
     * Bytes written to streaming clients and not yet handed to their sockets, over all streams: bounded,
     * since a writer waits while its stream has {@link FrameOutput#MAX_IN_FLIGHT} bytes out.
     */
    public long bytesInFlight() {
        return inFlight.get();
    }

    /** How long an issued URL stays usable. */
    public Duration tokenTtl() {
        return tokenTtl;
    }

    /** A one-time URL for {@code request}. */
    public String url(StreamRequest request) {
        if (closed) {
            throw new dev.berth.api.ClosedException("the streaming server is closed");
        }
        String kind = request instanceof StreamRequest.Exec ? "exec"
                : request instanceof StreamRequest.Attach ? "attach" : "portforward";
        return "http://" + hostPort(bound) + "/" + kind + "/" + tokens.issue(request);
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** Stops listening and ends every open stream. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        pumps.shutdown();
    }
}
