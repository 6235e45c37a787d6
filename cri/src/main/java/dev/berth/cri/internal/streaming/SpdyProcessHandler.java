package dev.berth.cri.internal.streaming;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.spdy.SpdyHeaders;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exec or attach over SPDY (the {@code v4.channel.k8s.io} family): the client opens one stream per
 * {@code streamType} (error, stdin, stdout, stderr, resize); the process starts once every stream the
 * request calls for is there. stdin's FIN is stdin's EOF; the resize stream carries one
 * {@code {"Width":..,"Height":..}} after the other; the status goes on the error stream (JSON from v4 on,
 * before only a failure's message), then every stream is finished and the connection closed.
 */
final class SpdyProcessHandler extends SpdyStreams {
    private static final Logger LOG = LoggerFactory.getLogger(SpdyProcessHandler.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** As the kubelet: the client has this long to open its streams. */
    static final long STREAM_CREATION_TIMEOUT_S = 30;

    private final String protocol;
    private final StreamContext context;
    private final ProcessSession session;
    private final Set<String> expected = new LinkedHashSet<>();
    private final Map<String, Integer> ids = new HashMap<>();
    private final Map<Integer, String> types = new HashMap<>();
    private StdinPipe stdin;
    private StdinPipe resizes;
    private boolean started;
    private ScheduledFuture<?> creationTimeout;

    SpdyProcessHandler(String protocol, StreamRequest request, StreamContext context) {
        this.protocol = protocol;
        this.context = context;
        this.session = new ProcessSession(request, context.backend(), context.pumps());
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        expected.add("error");
        if (session.wantsStdin()) {
            expected.add("stdin");
            stdin = new StdinPipe(paused -> ch.config().setAutoRead(!paused));
        }
        if (session.wantsStdout()) {
            expected.add("stdout");
        }
        if (session.wantsStderr()) {
            expected.add("stderr");
        }
        if (session.tty() && (protocol.equals(HttpRouter.V4) || protocol.equals(HttpRouter.V3))) {
            expected.add("resize");
        }
        creationTimeout = ch.eventLoop().schedule(() -> {
            if (!started) {
                LOG.debug("stream {}: the client opened {} of {}", session, ids.keySet(), expected);
                ch.close();
            }
        }, STREAM_CREATION_TIMEOUT_S, TimeUnit.SECONDS);
    }

    @Override
    void stream(ChannelHandlerContext ctx, int id, SpdyHeaders headers, boolean last) {
        String type = headers.getAsString(STREAM_TYPE);
        if (type == null || ids.containsKey(type)) {
            resetStream(ctx.channel(), id);
            return;
        }
        ids.put(type, id);
        types.put(id, type);
        if (type.equals("resize") && session.tty()) {
            resizes = new StdinPipe(null);
            StdinPipe in = resizes;
            context.pumps().execute(() -> readResizes(in));
        }
        if (last) {
            data(ctx, id, new byte[0], true);
        }
        if (!started && ids.keySet().containsAll(expected)) {
            start(ctx.channel());
        }
    }

    private void readResizes(StdinPipe in) {
        try (MappingIterator<JsonNode> sizes = JSON.readerFor(JsonNode.class).readValues(in)) {
            while (sizes.hasNextValue()) {
                session.resize(sizes.nextValue());
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("stream {}: resize stream ended: {}", session, e.toString());
        }
    }

    private void start(Channel ch) {
        started = true;
        creationTimeout.cancel(false);
        FrameOutput out = session.wantsStdout() ? output(context, ch, ids.get("stdout")) : null;
        FrameOutput err = session.wantsStderr() ? output(context, ch, ids.get("stderr")) : null;
        FrameOutput error = output(context, ch, ids.get("error"));
        List<FrameOutput> outputs = new ArrayList<>(List.of(error));
        if (out != null) {
            outputs.add(out);
        }
        if (err != null) {
            outputs.add(err);
        }
        session.start(stdin, out, err, status -> {
            if (!ch.isActive()) {
                return;
            }
            session.mark("status-handoff");
            byte[] payload = ProcessSession.errorPayload(status, protocol.equals(HttpRouter.V4));
            if (payload != null) {
                error.frame(payload, false).addListener(f -> session.mark("status-written"));
            }
            List<ChannelFuture> fins = new ArrayList<>();
            for (FrameOutput o : outputs) {
                fins.add(o.frame(new byte[0], true));
            }
            // end the connection once everything, queued output included, reached the socket
            GracefulClose.after(fins.get(fins.size() - 1));
        });
    }

    @Override
    void data(ChannelHandlerContext ctx, int id, byte[] bytes, boolean last) {
        String type = types.get(id);
        StdinPipe pipe = "stdin".equals(type) ? stdin : "resize".equals(type) ? resizes : null;
        if (pipe == null) {
            return;
        }
        pipe.offer(bytes);
        if (last) {
            pipe.closeWrite();
        }
    }

    @Override
    void reset(ChannelHandlerContext ctx, int id) {
        if ("stdin".equals(types.get(id)) && stdin != null) {
            stdin.closeWrite();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (creationTimeout != null) {
            creationTimeout.cancel(false);
        }
        if (stdin != null) {
            stdin.closeWrite();
        }
        if (resizes != null) {
            resizes.close();
        }
        session.end();
        session.closed();
        super.channelInactive(ctx);
    }
}
