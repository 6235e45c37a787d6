package dev.berth.cri.internal;

import dev.berth.cri.internal.proto.NetworkInterfaceUsage;
import dev.berth.cri.internal.proto.NetworkUsage;
import dev.berth.cri.internal.proto.UInt64Value;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A pod's network counters for {@code PodSandboxStats}, read from {@code /proc/<pid>/net/dev} of a process in
 * the pod's network namespace (that file shows the namespace of the process it belongs to, so nothing has to
 * enter it). {@code eth0}, the interface CNI made, is the default one, as in containerd's CRI.
 */
final class PodNetworkStats {
    static final String DEFAULT_INTERFACE = "eth0";

    private PodNetworkStats() {
    }

    /** The counters seen from {@code pid}'s network namespace; empty if that process is gone. */
    static Optional<NetworkUsage> of(long pid, long timestampNanos) {
        String text;
        try {
            text = Files.readString(Path.of("/proc", Long.toString(pid), "net", "dev"));
        } catch (IOException gone) {
            return Optional.empty();
        }
        return Optional.of(parse(text, timestampNanos));
    }

    /**
     * {@code /proc/net/dev}: two header lines, then {@code name: rx-bytes rx-packets rx-errs … tx-bytes
     * tx-packets tx-errs …} (8 receive columns, then 8 transmit). Loopback is left out.
     */
    static NetworkUsage parse(String netDev, long timestampNanos) {
        NetworkUsage.Builder usage = NetworkUsage.newBuilder().setTimestamp(timestampNanos);
        List<NetworkInterfaceUsage> all = new ArrayList<>();
        for (String line : netDev.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0 || line.contains("|")) {
                continue;
            }
            String name = line.substring(0, colon).trim();
            String[] f = line.substring(colon + 1).trim().split("\\s+");
            if (name.equals("lo") || f.length < 11) {
                continue;
            }
            NetworkInterfaceUsage i = NetworkInterfaceUsage.newBuilder().setName(name)
                    .setRxBytes(counter(f[0])).setRxErrors(counter(f[2]))
                    .setTxBytes(counter(f[8])).setTxErrors(counter(f[10])).build();
            all.add(i);
            if (name.equals(DEFAULT_INTERFACE)) {
                usage.setDefaultInterface(i);
            }
        }
        return usage.addAllInterfaces(all).build();
    }

    private static UInt64Value counter(String field) {
        return UInt64Value.newBuilder().setValue(Long.parseUnsignedLong(field)).build();
    }
}
