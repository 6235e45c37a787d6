package dev.berth.registry;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP proxy in front of a registry that can break a big response: after a connection has
 * carried {@code afterBytes} bytes towards the client it either cuts the connection (a reset, as a
 * network failure) or stops forwarding while keeping it open (a stall). Records the request heads it
 * forwards, so tests can see {@code Range} headers.
 */
final class FaultProxy implements AutoCloseable {
    enum Fault { CUT, STALL }

    private final ServerSocket server;
    private final int targetPort;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final List<String> requestHeads = new CopyOnWriteArrayList<>();
    private final AtomicInteger faultsLeft = new AtomicInteger();
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
                start(() -> pump(client, upstream, true));
                start(() -> pump(upstream, client, false));
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

    private void pump(Socket from, Socket to, boolean towardsServer) {
        byte[] buf = new byte[16 << 10];
        long carried = 0;
        boolean faulted = false;
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) > 0) {
                if (towardsServer) {
                    requestHeads.add(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                    out.write(buf, 0, n);
                    continue;
                }
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
