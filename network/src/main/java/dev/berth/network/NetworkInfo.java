package dev.berth.network;

import java.util.Objects;

/**
 * A network: a Linux bridge with its own IPv4 subnet, addresses leased by CNI's {@code host-local}
 * IPAM. {@code cniName} is the network's name in its CNI config (it names the IPAM lease directory);
 * {@code bridge} the host interface.
 */
public record NetworkInfo(String name, String cniName, String bridge, String subnet, String gateway) {
    public NetworkInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(cniName, "cniName");
        Objects.requireNonNull(bridge, "bridge");
        Objects.requireNonNull(subnet, "subnet");
        Objects.requireNonNull(gateway, "gateway");
    }
}
