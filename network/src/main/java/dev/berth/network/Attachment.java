package dev.berth.network;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A container's place on a network: its network namespace (a file bind-mounted under the state
 * directory), its address, the host ports it publishes (with the ports Berth picked) and the names
 * peers reach it by.
 */
public record Attachment(String namespace, String containerId, String network, String netns, String ip,
                         String gateway, List<PortMapping> ports, List<String> aliases) {
    public Attachment {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(containerId, "containerId");
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(netns, "netns");
        Objects.requireNonNull(ip, "ip");
        Objects.requireNonNull(gateway, "gateway");
        ports = List.copyOf(ports);
        aliases = List.copyOf(aliases);
    }

    /** The host port published for {@code containerPort} over {@code protocol}. */
    public Optional<PortMapping> port(int containerPort, String protocol) {
        return ports.stream().filter(p -> p.containerPort() == containerPort && p.protocol().equals(protocol))
                .findFirst();
    }
}
