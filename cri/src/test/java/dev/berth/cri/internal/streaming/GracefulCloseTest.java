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
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongPredicate;
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
                // on a busy host loopback delivery can lag; unread bytes must be there when the server ends
                awaitServerReceiveQueue(ch, s, 32 << 10);
                ch.eventLoop().execute(() -> end.accept(ch));
                return new Connection(server, ch, s);
            } catch (Exception | Error e) {
                s.close();
                server.close().syncUninterruptibly();
                throw e;
            }
        }

        /** Waits until the kernel holds {@code bytes} unread bytes on the server's end (from /proc/net/tcp*). */
        private static void awaitServerReceiveQueue(Channel accepted, Socket client, int bytes) throws Exception {
            awaitServerEnd(accepted, client, unread -> unread >= bytes, "holds " + bytes + " unread bytes");
        }

        /**
         * Waits until the kernel has dropped the server's end. The JDK closes a channel registered with a
         * selector in two steps: a shutdown of its output at once, the close of the socket at the selector's
         * next round; a client that read everything in between would see an end, not a reset.
         */
        void awaitServerSocketGone() throws Exception {
            awaitServerEnd(accepted, client, unread -> unread < 0, "is gone");
        }

        private static void awaitServerEnd(Channel accepted, Socket client, LongPredicate until,
                String what) throws Exception {
            int serverPort = ((InetSocketAddress) accepted.localAddress()).getPort();
            int clientPort = client.getLocalPort();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long unread;
            do {
                unread = receiveQueue(serverPort, clientPort);
                if (until.test(unread)) {
                    return;
                }
                Thread.sleep(1);
            } while (System.nanoTime() < deadline);
            throw new AssertionError("the server's socket never " + what + " (unread bytes: " + unread + ")");
        }

        /** The bytes waiting to be read on the socket from {@code localPort} to {@code remotePort}, -1 if none. */
        private static long receiveQueue(int localPort, int remotePort) throws IOException {
            // the JDK's sockets are IPv6 ones that also take IPv4, so they are listed in tcp6
            for (String table : new String[] {"/proc/net/tcp6", "/proc/net/tcp"}) {
                for (String line : Files.readAllLines(Path.of(table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 4 && f[1].endsWith(String.format(":%04X", localPort))
                            && f[2].endsWith(String.format(":%04X", remotePort))) {
                        return Long.parseLong(f[4].substring(f[4].indexOf(':') + 1), 16);
                    }
                }
            }
            return -1;
        }

        InputStream in() throws IOException {
            return client.getInputStream();
        }

        @Override
        public void close() throws IOException {
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
            c.awaitServerSocketGone();
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
