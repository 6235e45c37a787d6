package dev.berth.cri.internal.streaming;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The end of a stream connection over real loopback sockets. The client first sends bytes the server has
 * not read when it ends the connection (as a SPDY client's window updates), and reads slower than the
 * server wrote: a plain close is then an RST, and the reply still waiting in the server's kernel is lost.
 */
class GracefulCloseTest {
    private static final EventLoopGroup LOOP = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private static final byte[] REPLY = new byte[512 << 10];

    static {
        new Random(3).nextBytes(REPLY);
    }

    @AfterAll
    static void stop() {
        LOOP.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** A server that reads the client's first byte, then stops reading; {@link #end} sends the reply and ends. */
    private static Channel server(CompletableFuture<Channel> accepted) {
        return new ServerBootstrap().group(LOOP).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, new io.netty.channel.FixedRecvByteBufAllocator(1))
                .childOption(ChannelOption.SO_SNDBUF, 1 << 20) // the whole reply is handed to the kernel at once
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                io.netty.util.ReferenceCountUtil.release(msg);
                                ctx.channel().config().setAutoRead(false); // what follows stays unread
                                accepted.complete(ctx.channel());
                            }
                        });
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    /**
     * A connection whose client had the server read one byte, then sent 32 KiB the server never reads, and
     * whose server then sends the reply and ends the connection the way {@code end} says.
     */
    private record Connection(Channel server, Channel accepted, Socket client) implements AutoCloseable {
        static Connection open(Consumer<Channel> end) throws Exception {
            CompletableFuture<Channel> accepted = new CompletableFuture<>();
            Channel server = GracefulCloseTest.server(accepted);
            Socket s = new Socket();
            try {
                s.setReceiveBufferSize(16 << 10); // most of the reply still waits in the server's kernel at the end
                s.connect(server.localAddress());
                OutputStream out = s.getOutputStream();
                out.write(1);
                out.flush();
                Channel ch = accepted.get(30, TimeUnit.SECONDS);
                out.write(new byte[32 << 10]); // fits the socket buffers
                out.flush();
                ch.eventLoop().execute(() -> end.accept(ch));
                return new Connection(server, ch, s);
            } catch (Exception | Error e) {
                s.close();
                server.close().syncUninterruptibly();
                throw e;
            }
        }

        InputStream in() throws java.io.IOException {
            return client.getInputStream();
        }

        @Override
        public void close() throws java.io.IOException {
            try {
                client.close();
            } finally {
                server.close().syncUninterruptibly();
            }
        }
    }

    private static Object reply() {
        return Unpooled.wrappedBuffer(REPLY);
    }

    @Test
    void aPlainCloseWithUnreadClientBytesResetsTheConnectionAndLosesTheReply() throws Exception {
        try (Connection c = Connection.open(ch -> ch.writeAndFlush(reply()).addListener(f -> ch.close()))) {
            c.accepted().closeFuture().syncUninterruptibly();
            // the reason GracefulClose exists: the reply was sent, and is gone
            assertThatThrownBy(c.in()::readAllBytes).isInstanceOf(SocketException.class).hasMessageContaining("reset");
        }
    }

    @Test
    void theClientReadsTheWholeReplyThenTheEndAndTheServerClosesAfterTheClientDid() throws Exception {
        try (Connection c = Connection.open(ch -> GracefulClose.after(ch.writeAndFlush(reply())))) {
            byte[] got = c.in().readAllBytes(); // ends at the server's FIN, not a reset
            assertThat(Arrays.equals(got, REPLY)).as("the reply byte for byte").isTrue();
            assertThat(c.accepted().isOpen()).as("open until the client closes its side").isTrue();
            c.client().close();
            assertThat(c.accepted().closeFuture().await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aClientThatNeverClosesIsClosedAfterTheLinger() throws Exception {
        try (Connection c = Connection.open(ch -> GracefulClose.after(ch.writeAndFlush(reply()), 300))) {
            assertThat(c.in().readAllBytes()).hasSize(REPLY.length);
            assertThat(c.accepted().closeFuture().await(30, TimeUnit.SECONDS)).as("closed by the linger").isTrue();
        }
    }

    @Test
    void aFailedLastWriteClosesAtOnce() throws Exception {
        try (Connection c = Connection.open(ch -> {
            ch.close();
            GracefulClose.after(ch.writeAndFlush(reply()), 60_000);
        })) {
            assertThat(c.accepted().closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
        }
    }
}
