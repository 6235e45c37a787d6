package dev.berth.network.internal;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.network.PortMapping;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Host ports handed to published container ports, one reservation file each ({@code <proto>-<ip>-<port>},
 * naming its holder) in a host-wide directory: portmap's DNAT binds no socket, so without them two
 * containers, roots or JVMs could be given the same port. Callers serialize through a {@link HostLock}.
 */
public final class HostPorts {
    private final Path dir;

    public HostPorts(Path dir) {
        this.dir = dir;
    }

    /**
     * Reserves {@code ports} for {@code holder}: a fixed port if neither reserved nor bound on the host, a
     * free one for port 0; all or none.
     *
     * @throws AlreadyExistsException naming {@code ip:port/proto} if a fixed port is taken
     */
    public List<PortMapping> reserve(List<PortMapping> ports, String holder) {
        List<PortMapping> done = new ArrayList<>();
        try {
            for (PortMapping p : ports) {
                done.add(p.hostPort() == 0 ? pick(p, holder) : reserveFixed(p, holder));
            }
            return done;
        } catch (RuntimeException e) {
            release(done);
            throw e;
        }
    }

    /** Releases reservations; missing ones are ignored. */
    public void release(List<PortMapping> ports) {
        for (PortMapping p : ports) {
            try {
                Files.deleteIfExists(file(p));
            } catch (IOException e) {
                throw IoFailureException.of("cannot release host port " + p, e);
            }
        }
    }

    private PortMapping reserveFixed(PortMapping p, String holder) {
        String name = p.hostIp() + ":" + p.hostPort() + "/" + p.protocol();
        if (Files.exists(file(p))) {
            throw new AlreadyExistsException("host port " + name + " is already published by " + holderOf(p));
        }
        if (!bindable(p.hostIp(), p.hostPort(), p.protocol())) {
            throw new AlreadyExistsException("host port " + name + " is already in use on the host");
        }
        if (!create(p, holder)) {
            throw new AlreadyExistsException("host port " + name + " is already published by " + holderOf(p));
        }
        return p;
    }

    private PortMapping pick(PortMapping p, String holder) {
        for (int attempt = 0; attempt < 100; attempt++) {
            PortMapping picked = p.withHostPort(ephemeralPort(p.hostIp(), p.protocol()));
            if (create(picked, holder)) {
                return picked;
            }
        }
        throw new FailedPreconditionException("cannot find a free host port on " + p.hostIp() + " for " + p);
    }

    private boolean create(PortMapping p, String holder) {
        try {
            Files.createDirectories(dir);
            Files.writeString(file(p), holder, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            throw IoFailureException.of("cannot reserve host port " + p, e);
        }
    }

    private String holderOf(PortMapping p) {
        try {
            return Files.readString(file(p), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "another container";
        }
    }

    private Path file(PortMapping p) {
        return dir.resolve(p.protocol() + "-" + p.hostIp() + "-" + p.hostPort());
    }

    private static boolean bindable(String ip, int port, String protocol) {
        try {
            InetSocketAddress at = new InetSocketAddress(InetAddress.getByName(ip), port);
            if (protocol.equals("udp")) {
                try (DatagramSocket s = new DatagramSocket(null)) {
                    s.bind(at);
                }
            } else {
                try (ServerSocket s = new ServerSocket()) {
                    s.setReuseAddress(true);
                    s.bind(at);
                }
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int ephemeralPort(String ip, String protocol) {
        try {
            InetSocketAddress at = new InetSocketAddress(InetAddress.getByName(ip), 0);
            if (protocol.equals("udp")) {
                try (DatagramSocket s = new DatagramSocket(null)) {
                    s.bind(at);
                    return s.getLocalPort();
                }
            }
            try (ServerSocket s = new ServerSocket()) {
                s.bind(at);
                return s.getLocalPort();
            }
        } catch (IOException e) {
            throw new InvalidArgumentException("cannot bind a port on host address " + ip + ": " + e.getMessage());
        }
    }
}
