package dev.berth.junit.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A published port of a container that lives only as long as this JVM: a listening socket on
 * {@code 127.0.0.1} whose connections are relayed, byte for byte in both directions, to the container's
 * address and port on its bridge (Docker's userland proxy does the same for Testcontainers). Unlike the
 * {@code portmap} plugin it needs no plugin process and no NAT rule on the container's path, and nothing
 * outlives the JVM. A connection the container refuses is closed at once. Close it to stop listening and
 * cut the open connections.
 */
public final class PortForwarder implements AutoCloseable {
    /** The system property that turns forwarding off ({@code false}): published ports use {@code portmap}. */
    public static final String PROPERTY = "berth.junit.portForward";
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    private static final int BUFFER = 64 * 1024;

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private PortForwarder(ServerSocket server, InetSocketAddress target) {
        this.server = server;
        this.target = target;
    }

    /** Whether session-scoped containers publish their ports through forwarders (read at each start). */
    public static boolean enabled() {
        return !"false".equals(System.getProperty(PROPERTY));
    }

    /**
     * Listens on {@code 127.0.0.1:hostPort} ({@code 0}: a free port) and relays to {@code ip:port}.
     *
     * @throws IOException if the host port cannot be bound (in use by another process)
     */
    public static PortForwarder open(int hostPort, String ip, int port) throws IOException {
        ServerSocket s = new ServerSocket();
        try {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), hostPort), 128);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        PortForwarder f = new PortForwarder(s, new InetSocketAddress(InetAddress.getByName(ip), port));
        Thread acceptor = new Thread(f::acceptLoop, "berth-junit-forward-" + s.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
        return f;
    }

    /** The host port it listens on. */
    public int hostPort() {
        return server.getLocalPort();
    }

    /** The connections being relayed now (client and container side each count). */
    int openSockets() {
        return open.size();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            Thread t = new Thread(() -> relay(client), "berth-junit-forward-" + hostPort() + "-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    private void relay(Socket client) {
        Socket upstream = new Socket();
        open.add(client);
        open.add(upstream);
        if (closed) {
            closeBoth(client, upstream);
            return;
        }
        try {
            upstream.connect(target, CONNECT_TIMEOUT_MS);
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
        } catch (IOException refused) {
            closeBoth(client, upstream);
            return;
        }
        AtomicInteger running = new AtomicInteger(2);
        Thread back = new Thread(() -> pump(upstream, client, running), Thread.currentThread().getName() + "-back");
        back.setDaemon(true);
        back.start();
        pump(client, upstream, running);
    }

    /** Copies until {@code from} ends, then half-closes {@code to}; the last pump to end closes both. */
    private void pump(Socket from, Socket to, AtomicInteger running) {
        boolean failed = false;
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            byte[] buf = new byte[BUFFER];
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            failed = true;
        }
        if (running.decrementAndGet() == 0 || failed) {
            closeBoth(from, to);
        }
    }

    private void closeBoth(Socket a, Socket b) {
        for (Socket s : new Socket[] {a, b}) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
            open.remove(s);
        }
    }

    /** Stops listening and cuts every relayed connection. Idempotent. */
    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
            open.remove(s);
        }
    }
}
