package dev.berth.cri.internal;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.IoFailureException;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** The gRPC server of both CRI services on a unix socket, through grpc-netty-shaded's epoll transport. */
public final class GrpcEndpoint implements AutoCloseable {
    private final Path socket;
    private final Server server;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ExecutorService calls;
    private final AtomicBoolean closed = new AtomicBoolean();

    private GrpcEndpoint(Path socket, Server server, EventLoopGroup boss, EventLoopGroup workers,
                         ExecutorService calls) {
        this.socket = socket;
        this.server = server;
        this.boss = boss;
        this.workers = workers;
        this.calls = calls;
    }

    /** Listens on {@code socket} (mode 0660, a stale socket file replaced) and serves {@code runtime}. */
    public static GrpcEndpoint start(Path socket, CriRuntime runtime) {
        if (!Epoll.isAvailable()) {
            throw new FailedPreconditionException("the CRI server needs epoll for its unix socket: "
                    + Epoll.unavailabilityCause());
        }
        try {
            Files.createDirectories(socket.getParent(), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx--x--x")));
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            throw IoFailureException.of("cannot prepare the CRI socket " + socket, e);
        }
        EventLoopGroup boss = new EpollEventLoopGroup(1);
        EventLoopGroup workers = new EpollEventLoopGroup(2);
        AtomicInteger n = new AtomicInteger();
        // calls block on shims, CNI plugins and registries: each gets a thread of its own
        ExecutorService calls = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "berth-cri-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        Server server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(boss)
                .workerEventLoopGroup(workers)
                .executor(calls)
                .maxInboundMessageSize(16 * 1024 * 1024)
                .addService(new RuntimeServiceImpl(runtime))
                .addService(new ImageServiceImpl(runtime.images()))
                .build();
        try {
            server.start();
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
        } catch (IOException e) {
            server.shutdownNow();
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            calls.shutdownNow();
            throw IoFailureException.of("cannot listen on " + socket, e);
        }
        return new GrpcEndpoint(socket, server, boss, workers, calls);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        server.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
                server.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        calls.shutdownNow();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // a later server replaces it
        }
    }
}
