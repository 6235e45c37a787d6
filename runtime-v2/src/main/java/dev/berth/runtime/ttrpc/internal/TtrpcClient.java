package dev.berth.runtime.ttrpc.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.berth.api.BerthException;
import dev.berth.api.DeadlineExceededException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.UnavailableException;
import dev.berth.runtime.internal.proto.ttrpc.KeyValue;
import dev.berth.runtime.internal.proto.ttrpc.Request;
import dev.berth.runtime.internal.proto.ttrpc.Response;
import com.google.protobuf.ByteString;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A ttrpc client on one unix socket connection. Calls are unary and may run concurrently: each gets
 * the next odd stream id and its response is matched by id, in whatever order responses arrive.
 *
 * <p>Thread-safe. Futures complete on the event loop thread: callers must not block in dependent
 * stages. A lost connection fails every pending call with {@link UnavailableException}; a status from
 * the server becomes the matching {@link BerthException} subclass.
 */
public final class TtrpcClient implements AutoCloseable {
    private final Channel channel;
    private final String peer;
    private final List<KeyValue> metadata;
    private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicInteger nextStreamId = new AtomicInteger(1);
    private final CompletableFuture<Void> closed = new CompletableFuture<>();

    private final GenericFutureListener<Future<Object>> loopEnded = f -> failAll();
    private record Pending(String call, CompletableFuture<byte[]> result, ScheduledFuture<?> deadline) {
    }

    /** The allocator of this connection's buffers ({@link TtrpcBuffers}). */
    io.netty.buffer.ByteBufAllocator allocator() {
        return channel.config().getAllocator();
    }

    private TtrpcClient(Channel channel, String peer, Map<String, String> metadata) {
        this.channel = channel;
        this.peer = peer;
        List<KeyValue> kv = new ArrayList<>();
        metadata.forEach((k, v) -> kv.add(KeyValue.newBuilder().setKey(k.toLowerCase()).setValue(v).build()));
        this.metadata = List.copyOf(kv);
    }

    /**
     * Connects to the ttrpc server listening on {@code socket}. {@code metadata} is sent with every
     * call (e.g. {@code containerd-namespace-ttrpc}).
     *
     * @throws UnavailableException if nothing accepts connections there within {@code timeout}
     */
    public static TtrpcClient connect(EventLoopGroup group, Path socket, Map<String, String> metadata,
                                      Duration timeout) {
        TtrpcClient[] holder = new TtrpcClient[1];
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                .channel(EpollDomainSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .option(ChannelOption.ALLOCATOR, TtrpcBuffers.allocator())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new FrameDecoder(), new FrameEncoder(), new ResponseHandler(holder));
                    }
                });
        ChannelFuture connect = bootstrap.connect(new DomainSocketAddress(socket.toFile()));
        if (!connect.awaitUninterruptibly(timeout.toMillis() + 1000) || !connect.isSuccess()) {
            connect.channel().close();
            Throwable cause = connect.cause();
            throw new UnavailableException("ttrpc: cannot connect to " + socket
                    + (cause == null ? ": timed out" : ": " + cause.getMessage()), cause);
        }
        TtrpcClient client = new TtrpcClient(connect.channel(), socket.toString(), metadata);
        synchronized (holder) {
            holder[0] = client;
        }
        connect.channel().closeFuture().addListener(f -> client.failAll());
        // A loop shut down with this connection open never runs the listener above (nor a call's deadline):
        // its termination, notified off the loop, ends the calls still waiting.
        Future<?> loopTermination = connect.channel().eventLoop().terminationFuture();
        loopTermination.addListener(client.loopEnded);
        if (client.closed.isDone()) {
            loopTermination.removeListener(client.loopEnded);
        }
        if (!connect.channel().isActive()) {
            client.failAll();
        }
        return client;
    }

    /**
     * Calls {@code service/method} with {@code request}, decoding the response with {@code parser}.
     * {@code timeout} (null or zero = none) is sent as {@code timeout_nano} and enforced here: the call
     * fails with {@link DeadlineExceededException} when it passes.
     */
    public <T> CompletableFuture<T> call(String service, String method, MessageLite request, Parser<T> parser,
                                         Duration timeout) {
        return call(service, method, request.toByteArray(), timeout).thenApply(bytes -> {
            try {
                return parser.parseFrom(bytes);
            } catch (InvalidProtocolBufferException e) {
                throw new BerthException("ttrpc: cannot decode response of " + service + "/" + method + " from "
                        + peer + ": " + e.getMessage(), e);
            }
        });
    }

    /** Calls {@code service/method} with an already serialized request payload. */
    public CompletableFuture<byte[]> call(String service, String method, byte[] payload, Duration timeout) {
        String call = service + "/" + method;
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        long timeoutNanos = timeout == null || timeout.isNegative() ? 0 : timeout.toNanos();
        Request request = Request.newBuilder()
                .setService(service)
                .setMethod(method)
                .setPayload(ByteString.copyFrom(payload))
                .setTimeoutNano(timeoutNanos)
                .addAllMetadata(metadata)
                .build();
        byte[] bytes = request.toByteArray();
        if (bytes.length > Frame.MAX_PAYLOAD) {
            result.completeExceptionally(new InvalidArgumentException("ttrpc: " + call + " request of "
                    + bytes.length + " bytes exceeds the maximum message size of " + Frame.MAX_PAYLOAD));
            return result;
        }
        if (closed.isDone()) {
            result.completeExceptionally(closedError(call));
            return result;
        }
        int streamId = nextStreamId.getAndAdd(2);
        ScheduledFuture<?> deadline = null;
        if (timeoutNanos > 0) {
            deadline = channel.eventLoop().schedule(() -> {
                Pending p = pending.remove(streamId);
                if (p != null) {
                    p.result().completeExceptionally(new DeadlineExceededException("ttrpc: " + call + " on " + peer
                            + ": deadline of " + timeout.toMillis() + " ms exceeded"));
                }
            }, timeoutNanos, TimeUnit.NANOSECONDS);
        }
        pending.put(streamId, new Pending(call, result, deadline));
        if (closed.isDone()) {
            // Lost a race with failAll(): make sure this call does not wait forever.
            Pending p = pending.remove(streamId);
            if (p != null) {
                cancel(p);
                p.result().completeExceptionally(closedError(call));
            }
            return result;
        }
        channel.writeAndFlush(new Frame(streamId, Frame.TYPE_REQUEST, (byte) 0, bytes)).addListener(f -> {
            if (!f.isSuccess()) {
                Pending p = pending.remove(streamId);
                if (p != null) {
                    cancel(p);
                    p.result().completeExceptionally(new UnavailableException("ttrpc: " + call + " to " + peer
                            + ": write failed: " + f.cause().getMessage(), f.cause()));
                }
            }
        });
        return result;
    }

    /** Completes when the connection is closed, by either side. */
    public CompletableFuture<Void> closeFuture() {
        return closed;
    }

    public boolean isOpen() {
        return !closed.isDone();
    }

    /** Number of calls waiting for a response. */
    public int pendingCalls() {
        return pending.size();
    }

    /** Closes the connection; pending calls fail with {@link UnavailableException}. Idempotent. */
    @Override
    public void close() {
        // Awaited, not synced: on an event loop already shut down the close fails, and the channel is gone anyway.
        channel.close().awaitUninterruptibly();
        failAll();
    }

    private UnavailableException closedError(String call) {
        return new UnavailableException("ttrpc: closed: " + call + " to " + peer);
    }

    private static void cancel(Pending p) {
        if (p.deadline() != null) {
            p.deadline().cancel(false);
        }
    }

    private void failAll() {
        if (closed.complete(null)) {
            channel.eventLoop().terminationFuture().removeListener(loopEnded);
        }
        for (Integer id : List.copyOf(pending.keySet())) {
            Pending p = pending.remove(id);
            if (p != null) {
                cancel(p);
                p.result().completeExceptionally(closedError(p.call()));
            }
        }
    }

    private void onFrame(Frame frame) {
        if (frame.type() != Frame.TYPE_RESPONSE) {
            return;
        }
        Pending p = pending.remove(frame.streamId());
        if (p == null) {
            return; // timed out already, or a stray id
        }
        cancel(p);
        Response response;
        try {
            response = Response.parseFrom(frame.payload());
        } catch (InvalidProtocolBufferException e) {
            p.result().completeExceptionally(new BerthException("ttrpc: malformed response to " + p.call()
                    + " from " + peer + ": " + e.getMessage(), e));
            return;
        }
        if (response.hasStatus() && response.getStatus().getCode() != 0) {
            p.result().completeExceptionally(
                    BerthException.fromStatus(response.getStatus().getCode(), response.getStatus().getMessage()));
        } else {
            p.result().complete(response.getPayload().toByteArray());
        }
    }

    private void onOversized(OversizedFrame frame) {
        Pending p = pending.remove(frame.streamId());
        if (p != null) {
            cancel(p);
            p.result().completeExceptionally(new BerthException("ttrpc: response to " + p.call() + " from " + peer
                    + ": " + frame.message()));
        }
    }

    private static final class ResponseHandler extends SimpleChannelInboundHandler<Object> {
        private final TtrpcClient[] holder;

        ResponseHandler(TtrpcClient[] holder) {
            this.holder = holder;
        }

        private TtrpcClient client() {
            synchronized (holder) {
                return holder[0];
            }
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            TtrpcClient client = client();
            if (client == null) {
                return; // no call can be pending before connect() returned
            }
            if (msg instanceof Frame frame) {
                client.onFrame(frame);
            } else if (msg instanceof OversizedFrame oversized) {
                client.onOversized(oversized);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
