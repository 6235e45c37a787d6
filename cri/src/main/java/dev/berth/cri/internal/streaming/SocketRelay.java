package dev.berth.cri.internal.streaming;

import dev.berth.sys.ErrnoException;
import dev.berth.sys.Syscalls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.DuplexChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A forwarded connection over a TCP socket this JVM holds, made inside the pod's network namespace by a
 * helper process ({@link StreamBackend#portConnector}): the helper connects, keeps the socket as its fd 3
 * and says so on stdout; this JVM copies that descriptor with {@code pidfd_getfd(2)} and closes the
 * helper's stdin, so the helper exits. The socket then joins the stream connection's event loop: the pod's
 * bytes become frames without a copy or a thread hop, and the client's bytes are written to it.
 *
 * <p>Bounds as elsewhere: the socket stops being read while {@link FrameOutput#MAX_IN_FLIGHT} bytes of its
 * output are not yet handed to the client's socket, and the stream connection stops being read while the
 * pod's socket has more than {@link StdinPipe#HIGH} bytes waiting (or, before it is connected, queued).
 * All state is touched on the stream connection's event loop only, except the helper run on a pump thread.
 */
final class SocketRelay implements PortRelay {
    private static final Logger LOG = LoggerFactory.getLogger(SocketRelay.class);
    /** The helper's descriptor of the connected socket. */
    static final int HELPER_FD = 3;
    /** What the helper prints once connected. */
    static final String CONNECTED = "connected";

    /** A relay for a connection that ended before it started. */
    static final PortRelay NONE = new PortRelay() {
        @Override
        public void offer(byte[] b) {
        }

        @Override
        public void closeWrite() {
        }

        @Override
        public void kill() {
        }
    };

    private static volatile Boolean usable;

    private final Channel client;
    private final FrameOutput data;
    private final Consumer<String> error;
    private final Runnable done;
    private final String what;
    private final AtomicBoolean finished = new AtomicBoolean();
    private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
    private long pendingBytes;
    private boolean clientPaused;
    private boolean writeClosed;
    private volatile boolean killed;
    private Channel pod;

    private SocketRelay(Channel client, FrameOutput data, Consumer<String> error, Runnable done, String what) {
        this.client = client;
        this.data = data;
        this.error = error;
        this.done = done;
        this.what = what;
    }

    /** Whether this kernel lets this process take descriptors over (pidfd_getfd, Linux 5.6+, ptrace rights). */
    static boolean usable() {
        Boolean u = usable;
        if (u == null) {
            try {
                Syscalls sys = Syscalls.get();
                int probe = sys.openat(Syscalls.AT_FDCWD, "/dev/null", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
                try {
                    sys.close(sys.pidfdGetfd(ProcessHandle.current().pid(), probe));
                } finally {
                    sys.close(probe);
                }
                u = true;
            } catch (ErrnoException | RuntimeException | LinkageError e) {
                LOG.info("port-forward falls back to relay processes: {}", e.toString());
                u = false;
            }
            usable = u;
        }
        return u;
    }

    static PortRelay start(StreamContext context, List<String> connector, String sandboxId, int port, Channel ch,
                           FrameOutput data, Consumer<String> error, Runnable done) {
        SocketRelay r = new SocketRelay(ch, data, error, done, "error forwarding port " + port + " to pod " + sandboxId + ": ");
        context.pumps().execute(() -> r.connect(connector));
        return r;
    }

    /** Runs the helper and takes its socket over; on a pump thread. */
    private void connect(List<String> connector) {
        Process helper;
        try {
            helper = new ProcessBuilder(connector).start();
        } catch (IOException | RuntimeException e) {
            fail(e.getMessage());
            return;
        }
        try (InputStream out = helper.getInputStream(); InputStream err = helper.getErrorStream()) {
            String line = readLine(out);
            if (!CONNECTED.equals(line)) {
                helper.getOutputStream().close();
                int code = helper.waitFor();
                String why = new String(err.readNBytes(4096), StandardCharsets.UTF_8).trim();
                fail("exit status " + code + (why.isEmpty() ? "" : ": " + why));
                return;
            }
            int fd = Syscalls.get().pidfdGetfd(helper.pid(), HELPER_FD);
            try {
                Syscalls.get().setNonBlocking(fd);
            } catch (ErrnoException e) {
                Syscalls.get().close(fd);
                throw e;
            }
            client.eventLoop().execute(() -> attach(fd));
        } catch (IOException | RuntimeException e) {
            fail(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted");
        } finally {
            try {
                helper.getOutputStream().close(); // its read ends: the helper exits, its copy of the socket with it
            } catch (IOException ignored) {
                // gone already
            }
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n' && line.size() < 256) {
            line.write(c);
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    private void fail(String why) {
        if (!killed && client.isActive()) {
            error.accept(what + why);
        }
        finish();
    }

    private void finish() {
        if (finished.compareAndSet(false, true)) {
            client.eventLoop().execute(() -> {
                pending.forEach(ByteBuf::release);
                pending.clear();
                resumeClient();
            });
            done.run();
        }
    }

    /** On the event loop: the socket joins it. */
    private void attach(int fd) {
        if (killed) {
            Syscalls.get().close(fd);
            finish();
            return;
        }
        EpollSocketChannel ch = new EpollSocketChannel(fd);
        ch.config().setOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                new WriteBufferWaterMark(StdinPipe.LOW, StdinPipe.HIGH));
        ch.config().setOption(ChannelOption.TCP_NODELAY, true);
        ch.pipeline().addLast(new PodSide());
        pod = ch;
        client.eventLoop().register(ch).addListener(f -> {
            if (!f.isSuccess()) {
                LOG.debug("port-forward socket not registered: {}", f.cause().toString());
                ch.close();
                fail(String.valueOf(f.cause().getMessage()));
                return;
            }
            while (!pending.isEmpty()) {
                ch.write(pending.poll());
            }
            pendingBytes = 0;
            ch.flush();
            if (writeClosed) {
                shutdownOutput();
            }
            if (killed) {
                ch.close();
            }
            updateClientReading();
        });
    }

    /** The pod's side of the connection. */
    private final class PodSide extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            if (!buf.isReadable()) {
                buf.release();
                return;
            }
            if (!data.offer(buf, () -> ctx.channel().config().setAutoRead(true))) {
                ctx.channel().config().setAutoRead(false); // the client reads slower than the pod writes
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            client.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            updateClientReading();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            client.flush();
            finish();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("port-forward socket failed: {}", cause.toString());
            ctx.close();
        }
    }

    @Override
    public void offer(byte[] b) {
        if (killed || finished.get() || b.length == 0) {
            return;
        }
        Channel p = pod;
        if (p == null || !p.isRegistered()) {
            pending.add(Unpooled.wrappedBuffer(b));
            pendingBytes += b.length;
        } else {
            p.writeAndFlush(Unpooled.wrappedBuffer(b));
        }
        updateClientReading();
    }

    /** The stream connection reads while the pod's socket (or the queue before it) has room. */
    private void updateClientReading() {
        Channel p = pod;
        boolean full = pendingBytes >= StdinPipe.HIGH || (p != null && p.isActive() && !p.isWritable());
        if (full && !clientPaused) {
            clientPaused = true;
            client.config().setAutoRead(false);
        } else if (!full) {
            resumeClient();
        }
    }

    private void resumeClient() {
        if (clientPaused) {
            clientPaused = false;
            client.config().setAutoRead(true);
        }
    }

    @Override
    public void closeWrite() {
        writeClosed = true;
        Channel p = pod;
        if (p != null && p.isRegistered()) {
            shutdownOutput();
        }
    }

    private void shutdownOutput() {
        // after what is queued: shutting the output down at once would drop unwritten bytes
        pod.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (pod.isActive()) {
                ((DuplexChannel) pod).shutdownOutput();
            }
        });
    }

    @Override
    public void kill() {
        killed = true;
        Channel p = pod;
        if (p != null) {
            p.close();
        }
        pending.forEach(ByteBuf::release);
        pending.clear();
        pendingBytes = 0;
    }
}
