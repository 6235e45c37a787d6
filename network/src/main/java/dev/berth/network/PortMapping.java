package dev.berth.network;

import dev.berth.api.InvalidArgumentException;
import java.util.Locale;
import java.util.Objects;

/**
 * A published port: traffic to {@code hostIp:hostPort} reaches the container's {@code containerPort}.
 * {@code hostPort} 0 asks Berth to pick a free port; the attachment reports the one it picked.
 * {@code hostIp} defaults to {@code 127.0.0.1} so that nothing is exposed beyond the host unless asked.
 */
public record PortMapping(String hostIp, int hostPort, int containerPort, String protocol) {
    public static final String LOOPBACK = "127.0.0.1";

    public PortMapping {
        Objects.requireNonNull(hostIp, "hostIp");
        Objects.requireNonNull(protocol, "protocol");
        protocol = protocol.toLowerCase(Locale.ROOT);
        if (!protocol.equals("tcp") && !protocol.equals("udp")) {
            throw new InvalidArgumentException("port protocol \"" + protocol + "\" must be tcp or udp");
        }
        if (containerPort < 1 || containerPort > 65535) {
            throw new InvalidArgumentException("container port " + containerPort + " must be 1..65535");
        }
        if (hostPort < 0 || hostPort > 65535) {
            throw new InvalidArgumentException("host port " + hostPort + " must be 0..65535 (0 = pick one)");
        }
        if (!hostIp.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new InvalidArgumentException("host address \"" + hostIp + "\" must be an IPv4 address");
        }
    }

    /** TCP {@code containerPort} on a host port Berth picks, on 127.0.0.1. */
    public static PortMapping tcp(int containerPort) {
        return new PortMapping(LOOPBACK, 0, containerPort, "tcp");
    }

    /** TCP {@code containerPort} on {@code hostPort} of 127.0.0.1. */
    public static PortMapping tcp(int hostPort, int containerPort) {
        return new PortMapping(LOOPBACK, hostPort, containerPort, "tcp");
    }

    /** UDP {@code containerPort} on a host port Berth picks, on 127.0.0.1. */
    public static PortMapping udp(int containerPort) {
        return new PortMapping(LOOPBACK, 0, containerPort, "udp");
    }

    /** This mapping with the host port Berth picked. */
    public PortMapping withHostPort(int port) {
        return new PortMapping(hostIp, port, containerPort, protocol);
    }

    /**
     * Parses docker's {@code -p} form: {@code [ip:][hostPort:]containerPort[/tcp|/udp]}; a missing host
     * port means Berth picks one.
     *
     * @throws InvalidArgumentException naming the text if it is not of that form
     */
    public static PortMapping parse(String text) {
        Objects.requireNonNull(text, "port mapping");
        String proto = "tcp";
        String rest = text;
        int slash = text.indexOf('/');
        if (slash >= 0) {
            proto = text.substring(slash + 1);
            rest = text.substring(0, slash);
        }
        String[] parts = rest.split(":", -1);
        try {
            return switch (parts.length) {
                case 1 -> new PortMapping(LOOPBACK, 0, Integer.parseInt(parts[0]), proto);
                case 2 -> new PortMapping(LOOPBACK, Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), proto);
                case 3 -> new PortMapping(parts[0].isEmpty() ? LOOPBACK : parts[0],
                        parts[1].isEmpty() ? 0 : Integer.parseInt(parts[1]), Integer.parseInt(parts[2]), proto);
                default -> throw new NumberFormatException();
            };
        } catch (NumberFormatException e) {
            throw new InvalidArgumentException("port mapping \"" + text
                    + "\" must be [ip:][hostPort:]containerPort[/tcp|/udp]");
        } catch (InvalidArgumentException e) {
            throw new InvalidArgumentException("port mapping \"" + text + "\": " + e.getMessage());
        }
    }

    /** The {@link #parse} form, with every part spelled out. */
    @Override
    public String toString() {
        return hostIp + ":" + hostPort + ":" + containerPort + "/" + protocol;
    }
}
