package dev.berth.cri.internal.streaming;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.socket.DuplexChannel;
import java.util.concurrent.TimeUnit;

/**
 * Ends a stream connection without losing what was sent last. Closing a socket that still holds unread
 * bytes from the client (its WINDOW_UPDATEs and pings, a WebSocket close reply) makes the kernel answer
 * with RST, and a client whose kernel gets RST drops what it received but had not read yet: the tail of
 * the output, even the status. So the server shuts down only its write side (a FIN after the last frame)
 * and keeps reading; the connection closes when the client closed its side, or after {@link #LINGER_MS}.
 */
final class GracefulClose {
    static final long LINGER_MS = 10_000;

    private GracefulClose() {
    }

    /** Once {@code lastWrite} reached the socket, ends the connection as above (at once if the write failed). */
    static void after(ChannelFuture lastWrite) {
        after(lastWrite, LINGER_MS);
    }

    static void after(ChannelFuture lastWrite, long lingerMs) {
        Channel ch = lastWrite.channel();
        lastWrite.addListener(written -> {
            if (!written.isSuccess() || !(ch instanceof DuplexChannel duplex) || !ch.isActive()) {
                ch.close();
                return;
            }
            ch.config().setAutoRead(true); // a paused stdin must not keep the client's close from being read
            duplex.shutdownOutput().addListener(shut -> {
                if (!shut.isSuccess()) {
                    ch.close();
                    return;
                }
                // netty closes the channel when the client's FIN arrives; this bounds a client that never sends one
                var linger = ch.eventLoop().schedule(() -> ch.close(), lingerMs, TimeUnit.MILLISECONDS);
                ch.closeFuture().addListener(closed -> linger.cancel(false));
            });
        });
    }
}
