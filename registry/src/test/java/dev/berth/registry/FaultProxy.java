package dev.berth.registry;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A loopback TCP proxy in front of a registry that can break a big response: after a connection has
 * carried {@code afterBytes} bytes towards the client it either cuts the connection (a reset, as a
 * network failure) or stops forwarding while keeping it open (a stall). It reads the HTTP/1.1 requests
 * it forwards, records their heads (so tests can see {@code Range} headers and count attempts), and can
 * answer chosen requests itself with an error status, or reset the connection in the middle of a
 * request's body.
 */
final class FaultProxy implements AutoCloseable {
    enum Fault { CUT, STALL }

    private final ServerSocket server;
    private final int targetPort;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final List<String> requestHeads = new CopyOnWriteArrayList<>();
    private final AtomicInteger faultsLeft = new AtomicInteger();
    private final List<RequestFault> requestFaults = new CopyOnWriteArrayList<>();
    private final AtomicInteger requestFaultsInjected = new AtomicInteger();
    private volatile Fault fault = Fault.CUT;
    private volatile long afterBytes = Long.MAX_VALUE;
    private volatile Runnable onFault = () -> { };
    private volatile boolean closed;

    FaultProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread t = new Thread(this::acceptLoop, "fault-proxy-accept");
        t.setDaemon(true);
        t.start();
    }

    String host() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    /** The next {@code times} connections that carry more than {@code bytes} towards the client break. */
    FaultProxy arm(Fault kind, long bytes, int times) {
        this.fault = kind;
        this.afterBytes = bytes;
        this.faultsLeft.set(times);
        return this;
    }

    FaultProxy onFault(Runnable action) {
        this.onFault = action;
        return this;
    }

    List<String> requestHeads() {
        return List.copyOf(requestHeads);
    }

    /**
     * The next {@code times} requests whose request line ({@code PUT /v2/... HTTP/1.1}) contains a match
     * of {@code requestLine} are answered with {@code status} and a registry error body, and never reach
     * the registry. {@code retryAfter} (seconds) is sent as {@code Retry-After} when not null.
     */
    FaultProxy failRequests(String requestLine, int status, int times, String retryAfter) {
        requestFaults.add(new RequestFault(Pattern.compile(requestLine), status, -1, retryAfter,
                new AtomicInteger(times)));
        return this;
    }

    FaultProxy failRequests(String requestLine, int status, int times) {
        return failRequests(requestLine, status, times, null);
    }

    /**
     * The next {@code times} matching requests reach the registry with only their first
     * {@code afterBytes} body bytes; then both connections are reset.
     */
    FaultProxy cutRequestBodies(String requestLine, long afterBytes, int times) {
        requestFaults.add(new RequestFault(Pattern.compile(requestLine), 0, afterBytes, null,
                new AtomicInteger(times)));
        return this;
    }

    /** How many requests were answered with an error or cut by {@link #failRequests}/{@link #cutRequestBodies}. */
    int requestFaultsInjected() {
        return requestFaultsInjected.get();
    }

    /** How many requests whose request line contains a match of {@code requestLine} arrived (faulted or not). */
    long requests(String requestLine) {
        Pattern p = Pattern.compile(requestLine);
        return requestHeads.stream().filter(h -> p.matcher(h.substring(0, Math.max(0, h.indexOf('\r')))).find())
                .count();
    }

    private record RequestFault(Pattern requestLine, int status, long cutAfter, String retryAfter,
                                AtomicInteger left) {
        boolean takes(String line) {
            return requestLine.matcher(line).find() && left.getAndUpdate(x -> Math.max(0, x - 1)) > 0;
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket();
                try {
                    upstream.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), targetPort), 2000);
                } catch (IOException e) {
                    // like an unreachable registry behind a load balancer: the connection just ends
                    closeQuietly(client);
                    closeQuietly(upstream);
                    continue;
                }
                sockets.add(client);
                sockets.add(upstream);
                start(() -> pumpRequests(client, upstream));
                start(() -> pump(upstream, client));
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private static void start(Runnable r) {
        Thread t = new Thread(r, "fault-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    /** Forwards responses, breaking one as armed by {@link #arm}. */
    private void pump(Socket from, Socket to) {
        byte[] buf = new byte[16 << 10];
        long carried = 0;
        boolean faulted = false;
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) > 0) {
                if (!faulted && carried + n > afterBytes && faultsLeft.getAndUpdate(x -> Math.max(0, x - 1)) > 0) {
                    faulted = true;
                    int part = (int) Math.max(0, afterBytes - carried);
                    out.write(buf, 0, part);
                    out.flush();
                    carried += part;
                    onFault.run();
                    if (fault == Fault.CUT) {
                        to.shutdownOutput(); // the client gets exactly what was sent, then the end
                        from.close();
                        to.close();
                        return;
                    }
                    while (!closed && !to.isClosed()) {
                        Thread.sleep(50); // stall: keep the connection open, send nothing
                    }
                    return;
                }
                out.write(buf, 0, n);
                carried += n;
            }
        } catch (IOException | InterruptedException e) {
            // connection gone
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    /** Forwards requests one by one (HTTP/1.1 without pipelining), applying the request faults. */
    private void pumpRequests(Socket client, Socket upstream) {
        try (InputStream in = new BufferedInputStream(client.getInputStream());
             OutputStream out = upstream.getOutputStream()) {
            byte[] head;
            while ((head = readHead(in)) != null) {
                String text = new String(head, StandardCharsets.ISO_8859_1);
                requestHeads.add(text);
                String line = text.substring(0, text.indexOf('\r'));
                long length = bodyLength(text);
                RequestFault fault = requestFaults.stream().filter(f -> f.takes(line)).findFirst().orElse(null);
                if (fault != null) {
                    requestFaultsInjected.incrementAndGet();
                }
                if (fault != null && fault.status() > 0 && length >= 0) {
                    in.skipNBytes(length); // read the whole request, so the client sees the answer, not a reset
                    answer(client, fault);
                    return;
                }
                out.write(head);
                if (length < 0) {
                    in.transferTo(out); // chunked: forward the rest of the connection as it comes
                    return;
                }
                if (fault != null && fault.cutAfter() >= 0) {
                    copy(in, out, Math.min(length, fault.cutAfter()));
                    out.flush();
                    client.setSoLinger(true, 0); // a reset, not an orderly end
                    closeQuietly(client);
                    closeQuietly(upstream);
                    return;
                }
                copy(in, out, length);
                out.flush();
            }
        } catch (IOException e) {
            // connection gone
        } finally {
            closeQuietly(client);
            closeQuietly(upstream);
        }
    }

    private static void answer(Socket client, RequestFault fault) throws IOException {
        String code = switch (fault.status()) {
            case 400 -> "DIGEST_INVALID";
            case 401 -> "UNAUTHORIZED";
            case 403 -> "DENIED";
            case 429 -> "TOOMANYREQUESTS";
            default -> "UNAVAILABLE";
        };
        byte[] body = ("{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"injected by the test proxy\"}]}")
                .getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + fault.status() + " Injected\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\nConnection: close\r\n"
                + (fault.retryAfter() == null ? "" : "Retry-After: " + fault.retryAfter() + "\r\n") + "\r\n";
        OutputStream out = client.getOutputStream();
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
        client.shutdownOutput();
    }

    /** The request head up to and including the blank line, or null at the end of the connection. */
    private static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                return head.toByteArray();
            }
        }
        return null;
    }

    private static final Pattern CONTENT_LENGTH = Pattern.compile("(?im)^content-length:\\s*(\\d+)\\s*$");

    /** The body's length; 0 without Content-Length (a request); -1 for a chunked body. */
    private static long bodyLength(String head) {
        if (head.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked")) {
            return -1;
        }
        Matcher m = CONTENT_LENGTH.matcher(head);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    private static void copy(InputStream in, OutputStream out, long length) throws IOException {
        byte[] buf = new byte[16 << 10];
        long left = length;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                throw new IOException("request body ended early");
            }
            out.write(buf, 0, n);
            left -= n;
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // ignore
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Socket s : sockets) {
            closeQuietly(s);
        }
    }
}
