package dev.berth.cri;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A client of the Kubernetes WebSocket channel protocols on the JDK's WebSocket: collects what arrives per
 * channel (each message's first byte is its channel) and sends framed bytes.
 */
final class K8sStreamClient implements WebSocket.Listener {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();

    private final Map<Integer, ByteArrayOutputStream> channels = new ConcurrentHashMap<>();
    /** Per channel, the messages in arrival order (port-forward needs the first one alone). */
    private final Map<Integer, List<byte[]>> messages = new ConcurrentHashMap<>();
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    WebSocket ws;
    private boolean paused;
    private boolean owed;

    static K8sStreamClient open(String url, String... protocols) {
        K8sStreamClient c = new K8sStreamClient();
        WebSocket.Builder b = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30));
        if (protocols.length > 0) {
            b.subprotocols(protocols[0], java.util.Arrays.copyOfRange(protocols, 1, protocols.length));
        }
        c.ws = b.buildAsync(URI.create(url.replaceFirst("^http", "ws")), c).orTimeout(60, TimeUnit.SECONDS).join();
        return c;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
        byte[] b = new byte[data.remaining()];
        data.get(b);
        synchronized (this) {
            partial.writeBytes(b);
            if (last) {
                byte[] msg = partial.toByteArray();
                partial.reset();
                if (msg.length > 0) {
                    int ch = msg[0] & 0xff;
                    byte[] payload = java.util.Arrays.copyOfRange(msg, 1, msg.length);
                    channels.computeIfAbsent(ch, k -> new ByteArrayOutputStream()).writeBytes(payload);
                    messages.computeIfAbsent(ch, k -> new ArrayList<>()).add(payload);
                }
            }
        }
        synchronized (this) {
            if (paused) {
                owed = true; // asks for nothing more: the JDK stops reading the socket
                return null;
            }
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.completeExceptionally(error);
    }

    synchronized byte[] bytes(int channel) {
        ByteArrayOutputStream b = channels.get(channel);
        return b == null ? new byte[0] : b.toByteArray();
    }

    String text(int channel) {
        return new String(bytes(channel), StandardCharsets.UTF_8);
    }

    synchronized List<byte[]> messages(int channel) {
        return List.copyOf(messages.getOrDefault(channel, List.of()));
    }

    void send(int channel, byte[] data) {
        ByteBuffer buf = ByteBuffer.allocate(data.length + 1);
        buf.put((byte) channel).put(data).flip();
        ws.sendBinary(buf, true).orTimeout(60, TimeUnit.SECONDS).join();
    }

    void send(int channel, String text) {
        send(channel, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Stops or resumes taking messages, as a client that stops consuming output. */
    void reading(boolean on) {
        boolean request;
        synchronized (this) {
            paused = !on;
            request = on && owed;
            owed = false;
        }
        if (request) {
            ws.request(1);
        }
    }

    /** Waits until the server closes the stream. */
    int awaitClose() {
        return closed.orTimeout(120, TimeUnit.SECONDS).join();
    }
}
