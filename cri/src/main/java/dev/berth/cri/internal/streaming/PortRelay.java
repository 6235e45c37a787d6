package dev.berth.cri.internal.streaming;

import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollSocketChannel;
import java.util.List;
import java.util.function.Consumer;

/**
 * One forwarded connection, apart from its transport. Bytes from the client are {@link #offer}ed (the
 * connection stops reading while too many wait); the pod's bytes go to {@code data}; a failure is described
 * to {@code error}; {@code done} runs once when the connection ended or could not be made.
 *
 * <p>Two ways into the pod's network namespace, neither entering it from this JVM: by default a helper
 * process connects inside the namespace and this JVM takes the connected socket over ({@link SocketRelay}:
 * the bytes then go straight between the socket and the stream connection on its event loop); where that
 * cannot work (no epoll, no {@code pidfd_getfd}, a backend without a connector) or with
 * {@code -Dberth.cri.portForwardRelay=process}, a relay process copies them ({@link ProcessRelay}).
 */
interface PortRelay {
    /** {@code process} forces the relay process (the A/B switch of the port-forward benchmark). */
    String MODE_PROPERTY = "berth.cri.portForwardRelay";

    static PortRelay start(StreamContext context, String sandboxId, int port, Channel ch, FrameOutput data,
                           Consumer<String> error, Runnable done) {
        // the taken-over socket joins the stream connection's event loop, which must be an epoll one
        if (!"process".equals(System.getProperty(MODE_PROPERTY)) && ch instanceof EpollSocketChannel
                && SocketRelay.usable()) {
            List<String> connector;
            try {
                connector = context.backend().portConnector(sandboxId, port);
            } catch (RuntimeException e) {
                error.accept("error forwarding port " + port + " to pod " + sandboxId + ": " + e.getMessage());
                done.run();
                return SocketRelay.NONE;
            }
            if (connector != null) {
                return SocketRelay.start(context, connector, sandboxId, port, ch, data, error, done);
            }
        }
        return ProcessRelay.start(context, sandboxId, port, ch, data, error, done);
    }

    /** Bytes for the pod, without blocking. */
    void offer(byte[] b);

    /** The client sends no more: the pod's side sees EOF after what is queued. */
    void closeWrite();

    /** The client went away: the connection (or relay) goes. Idempotent. */
    void kill();
}
