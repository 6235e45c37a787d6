package dev.berth.runtime.ttrpc.internal;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The epoll event loop that carries every ttrpc connection of one runtime (all shim clients and the
 * events server), so a thousand shims cost one thread, not a thousand.
 */
public final class EpollLoop implements AutoCloseable {
    private final EventLoopGroup group;

    private EpollLoop(EventLoopGroup group) {
        this.group = group;
    }

    /** Starts a loop with {@code threads} daemon threads named {@code name-N}. */
    public static EpollLoop start(String name, int threads) {
        Epoll.ensureAvailability();
        return new EpollLoop(new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true),
                EpollIoHandler.newFactory()));
    }

    public EventLoopGroup group() {
        return group;
    }

    @Override
    public void close() {
        if (!group.isShuttingDown()) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
