package dev.berth.cri.internal.streaming;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.spdy.SpdyHeaders;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Port-forward over SPDY ({@code portforward.k8s.io}): each connection the client forwards is a pair of
 * streams sharing a {@code requestID}, one {@code streamType: error} and one {@code data}, both naming the
 * {@code port}. Once both are open a {@link PortRelay} connects to the port in the pod; its bytes travel on
 * the data stream, a failure is written to the error stream, and both streams finish when the relay ends.
 * Many connections share one SPDY connection; all relays die when it closes.
 */
final class SpdyPortForwardHandler extends SpdyStreams {
    static final String PORT = "port";
    static final String REQUEST_ID = "requestid";

    private final StreamRequest.PortForward request;
    private final StreamContext context;
    private final Map<String, Pair> byRequest = new HashMap<>();
    private final Map<Integer, Pair> byStream = new HashMap<>();

    /** The two streams of one forwarded connection. */
    private static final class Pair {
        final String requestId;
        final String port;
        int data = -1;
        int error = -1;
        PortRelay relay;

        Pair(String requestId, String port) {
            this.requestId = requestId;
            this.port = port;
        }
    }

    SpdyPortForwardHandler(StreamRequest.PortForward request, StreamContext context) {
        this.request = request;
        this.context = context;
    }

    @Override
    void stream(ChannelHandlerContext ctx, int id, SpdyHeaders headers, boolean last) {
        String type = headers.getAsString(STREAM_TYPE);
        String port = headers.getAsString(PORT);
        String requestId = headers.getAsString(REQUEST_ID);
        if (requestId == null) {
            requestId = "port-" + port; // clients before requestID paired the streams by port
        }
        Pair p = byRequest.computeIfAbsent(requestId, r -> new Pair(r, port));
        if ("data".equals(type) && p.data < 0) {
            p.data = id;
        } else if ("error".equals(type) && p.error < 0) {
            p.error = id;
        } else {
            resetStream(ctx.channel(), id);
            return;
        }
        byStream.put(id, p);
        if (p.data >= 0 && p.error >= 0) {
            connect(ctx.channel(), p);
        }
    }

    private void connect(Channel ch, Pair p) {
        FrameOutput data = output(context, ch, p.data);
        FrameOutput error = output(context, ch, p.error);
        Runnable done = () -> {
            data.frame(new byte[0], true);
            error.frame(new byte[0], true);
            ch.eventLoop().execute(() -> forget(p));
        };
        int port;
        try {
            port = Integer.parseInt(p.port == null ? "" : p.port.trim());
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            error.frame(("invalid port \"" + p.port + "\"").getBytes(StandardCharsets.UTF_8), false);
            done.run();
            return;
        }
        if (!request.ports().isEmpty() && !request.ports().contains(port)) {
            error.frame(("port " + port + " was not among the ports " + request.ports() + " this URL was issued for")
                    .getBytes(StandardCharsets.UTF_8), false);
            done.run();
            return;
        }
        p.relay = PortRelay.start(context, request.sandboxId(), port, ch, data,
                message -> error.frame(message.getBytes(StandardCharsets.UTF_8), false), done);
    }

    private void forget(Pair p) {
        byRequest.remove(p.requestId);
        byStream.remove(p.data);
        byStream.remove(p.error);
    }

    @Override
    void data(ChannelHandlerContext ctx, int id, byte[] bytes, boolean last) {
        Pair p = byStream.get(id);
        if (p == null || p.data != id || p.relay == null) {
            return; // nothing to do with bytes on the error stream
        }
        p.relay.offer(bytes);
        if (last) {
            p.relay.closeWrite();
        }
    }

    @Override
    void reset(ChannelHandlerContext ctx, int id) {
        Pair p = byStream.get(id);
        if (p != null && p.relay != null) {
            p.relay.kill();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        for (Pair p : byRequest.values()) {
            if (p.relay != null) {
                p.relay.kill();
            }
        }
        super.channelInactive(ctx);
    }
}
