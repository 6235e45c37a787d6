package dev.berth.runtime.ttrpc.internal;

import dev.berth.api.IoFailureException;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.api.BerthException;
import dev.berth.api.StatusCode;
import dev.berth.api.UnavailableException;
import dev.berth.runtime.internal.proto.rpc.Status;
import dev.berth.runtime.internal.proto.ttrpc.KeyValue;
import dev.berth.runtime.internal.proto.ttrpc.Request;
import dev.berth.runtime.internal.proto.ttrpc.Response;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A ttrpc server on a unix socket: unary calls dispatched to registered handlers by service and method
 * name. Handler exceptions become status codes ({@link BerthException#grpcCode()}, else UNKNOWN);
 * unknown services and methods are answered UNIMPLEMENTED, oversized requests RESOURCE_EXHAUSTED.
 */
public final class TtrpcServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TtrpcServer.class);

    /** Handles one call; returns the serialized response message. */
    @FunctionalInterface
    public interface Handler {
        byte[] handle(CallContext context, byte[] payload) throws Exception;
    }

    /** What a handler knows about the call besides its payload. */
    public record CallContext(String service, String method, Map<String, List<String>> metadata,
                              long timeoutNanos) {
        /** The first value of metadata {@code key} (keys are lower-case on the wire). */
        public Optional<String> first(String key) {
            List<String> values = metadata.get(key.toLowerCase());
            return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
        }
    }

    private final Channel serverChannel;
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final Path socket;
    private final Map<String, Map<String, Handler>> services;
    private final Executor executor;
    private volatile boolean closed;
    /** This process's user, who owns the socket: the only peer served (containerd's UnixSocketRequireSameUser). */
    private final int ownerUid;

    private TtrpcServer(Path socket, Map<String, Map<String, Handler>> services, Executor executor,
                        EventLoopGroup group) {
        this.socket = socket;
        this.services = services;
        this.executor = executor;
        this.ownerUid = effectiveUid();
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group, group)
                .channel(EpollServerDomainSocketChannel.class)
                .option(ChannelOption.ALLOCATOR, TtrpcBuffers.allocator())
                .childOption(ChannelOption.ALLOCATOR, TtrpcBuffers.allocator())
                .childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
                    @Override
                    protected void initChannel(EpollDomainSocketChannel ch) {
                        if (!samePeerUser(ch)) {
                            ch.close();
                            return;
                        }
                        connections.add(ch);
                        ch.pipeline().addLast(new FrameDecoder(), new FrameEncoder(), new RequestHandler());
                    }
                });
        ChannelFuture bind = bootstrap.bind(new DomainSocketAddress(socket.toFile())).syncUninterruptibly();
        if (!bind.isSuccess()) {
            throw new UnavailableException("ttrpc: cannot listen on " + socket + ": " + bind.cause().getMessage(),
                    bind.cause());
        }
        this.serverChannel = bind.channel();
        try {
            // bind(2) applies the umask to the socket file; connecting needs write permission on it
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            serverChannel.close().syncUninterruptibly();
            throw new UnavailableException("ttrpc: cannot restrict the mode of " + socket + ": " + e, e);
        }
    }

    /** This process's effective uid: the owner of {@code /proc/self}. */
    private static int effectiveUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | RuntimeException e) {
            throw new UnavailableException("ttrpc: cannot tell this process's uid from /proc/self: " + e, e);
        }
    }

    /** Whether the connected peer runs as this process's user (SO_PEERCRED); others are refused. */
    private boolean samePeerUser(EpollDomainSocketChannel ch) {
        try {
            int peer = ch.peerCredentials().uid();
            if (peer == ownerUid) {
                return true;
            }
            log.warn("ttrpc: refused a connection on {} from uid {} (pid {}): only uid {} is served", socket, peer,
                    ch.peerCredentials().pid(), ownerUid);
        } catch (IOException e) {
            log.warn("ttrpc: refused a connection on {}: cannot read its credentials: {}", socket, e.toString());
        }
        return false;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Path socket() {
        return socket;
    }

    /** Number of connected clients. */
    public int connections() {
        return connections.size();
    }

    /** Stops listening, closes every connection and removes the socket file. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        serverChannel.close().syncUninterruptibly();
        connections.close().awaitUninterruptibly();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            log.warn("cannot remove ttrpc socket {}: {}", socket, e.toString());
        }
    }

    private static Frame responseFrame(int streamId, int code, String message, byte[] payload) {
        Status.Builder status = Status.newBuilder();
        if (code != 0) {
            status.setCode(code).setMessage(message);
        }
        Response response = Response.newBuilder()
                .setStatus(status)
                .setPayload(ByteString.copyFrom(payload))
                .build();
        return new Frame(streamId, Frame.TYPE_RESPONSE, (byte) 0, response.toByteArray());
    }

    private static Frame errorFrame(int streamId, StatusCode code, String message) {
        return responseFrame(streamId, code.code(), message, new byte[0]);
    }

    private final class RequestHandler extends SimpleChannelInboundHandler<Object> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof OversizedFrame oversized) {
                if (oversized.type() == Frame.TYPE_REQUEST) {
                    ctx.writeAndFlush(errorFrame(oversized.streamId(), StatusCode.RESOURCE_EXHAUSTED,
                            oversized.message()));
                }
                return;
            }
            Frame frame = (Frame) msg;
            if (frame.type() != Frame.TYPE_REQUEST) {
                return; // unknown types are ignored for forward compatibility; unary calls carry no data frames
            }
            int streamId = frame.streamId();
            if ((streamId & 1) == 0) {
                ctx.writeAndFlush(errorFrame(streamId, StatusCode.INVALID_ARGUMENT,
                        "stream id " + Integer.toUnsignedString(streamId) + " must be odd for client-initiated streams"));
                return;
            }
            Request request;
            try {
                request = Request.parseFrom(frame.payload());
            } catch (InvalidProtocolBufferException e) {
                ctx.writeAndFlush(errorFrame(streamId, StatusCode.INVALID_ARGUMENT, "malformed request: " + e.getMessage()));
                return;
            }
            Map<String, Handler> methods = services.get(request.getService());
            if (methods == null) {
                ctx.writeAndFlush(errorFrame(streamId, StatusCode.UNIMPLEMENTED, "service " + request.getService()));
                return;
            }
            Handler handler = methods.get(request.getMethod());
            if (handler == null) {
                ctx.writeAndFlush(errorFrame(streamId, StatusCode.UNIMPLEMENTED, "method " + request.getMethod()));
                return;
            }
            Map<String, List<String>> metadata = new HashMap<>();
            for (KeyValue kv : request.getMetadataList()) {
                metadata.computeIfAbsent(kv.getKey().toLowerCase(), k -> new ArrayList<>()).add(kv.getValue());
            }
            CallContext context = new CallContext(request.getService(), request.getMethod(), Map.copyOf(metadata),
                    request.getTimeoutNano());
            byte[] payload = request.getPayload().toByteArray();
            Runnable call = () -> ctx.writeAndFlush(invoke(handler, context, streamId, payload));
            try {
                executor.execute(call);
            } catch (RejectedExecutionException e) {
                ctx.writeAndFlush(errorFrame(streamId, StatusCode.UNAVAILABLE, "server is shutting down"));
            }
        }

        private Frame invoke(Handler handler, CallContext context, int streamId, byte[] payload) {
            try {
                byte[] result = handler.handle(context, payload);
                if (result.length > Frame.MAX_PAYLOAD - 64) {
                    return errorFrame(streamId, StatusCode.RESOURCE_EXHAUSTED, "response of " + result.length
                            + " bytes exceeds the maximum message size of " + Frame.MAX_PAYLOAD);
                }
                return responseFrame(streamId, 0, "", result);
            } catch (BerthException e) {
                return responseFrame(streamId, e.grpcCode(), String.valueOf(e.getMessage()), new byte[0]);
            } catch (InvalidProtocolBufferException e) {
                return errorFrame(streamId, StatusCode.INVALID_ARGUMENT, "malformed " + context.method()
                        + " request: " + e.getMessage());
            } catch (Exception | Error e) {
                log.warn("ttrpc handler {}/{} failed", context.service(), context.method(), e);
                return errorFrame(streamId, StatusCode.UNKNOWN, String.valueOf(e));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("ttrpc server connection on {} failed: {}", socket, cause.toString());
            ctx.close();
        }
    }

    /** Registers handlers, then binds. */
    public static final class Builder {
        private final Map<String, Map<String, Handler>> services = new LinkedHashMap<>();
        private Executor executor;

        private Builder() {
        }

        public Builder register(String service, String method, Handler handler) {
            services.computeIfAbsent(Objects.requireNonNull(service, "service"), s -> new LinkedHashMap<>())
                    .put(Objects.requireNonNull(method, "method"), Objects.requireNonNull(handler, "handler"));
            return this;
        }

        /** Where handlers run; default: on the connection's event loop (handlers must not block then). */
        public Builder executor(Executor executor) {
            this.executor = executor;
            return this;
        }

        /**
         * Listens on {@code socket}, replacing a stale socket file left by a process that died.
         *
         * @throws UnavailableException if the socket cannot be bound
         */
        public TtrpcServer bind(EventLoopGroup group, Path socket) {
            try {
                Files.createDirectories(socket.toAbsolutePath().getParent(),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                throw IoFailureException.of("cannot prepare ttrpc socket " + socket, e);
            }
            Map<String, Map<String, Handler>> copy = new HashMap<>();
            services.forEach((s, m) -> copy.put(s, Map.copyOf(m)));
            Executor exec = executor != null ? executor : Runnable::run;
            return new TtrpcServer(socket, Map.copyOf(copy), exec, group);
        }
    }
}
