package dev.berth.network.internal;

import java.util.List;

/**
 * Keeps Berth networks apart: the host routes between its bridges, so without these rules a container
 * could reach another network's containers by address. Two filter chains, as Docker does it: traffic
 * that enters from a Berth bridge and leaves through another interface goes to the second chain, which
 * drops it if that interface is a Berth bridge. One rule per network in each chain.
 */
public final class Isolation {
    static final String STAGE1 = "BERTH-ISOLATION-1";
    static final String STAGE2 = "BERTH-ISOLATION-2";

    private Isolation() {
    }

    /**
     * The CNI firewall plugin's chain for an administrator's rules, which it evaluates before the rules that
     * accept each container's traffic ({@code FORWARD → CNI-FORWARD → CNI-ADMIN}, then the accepts).
     */
    static final String CNI_ADMIN = "CNI-ADMIN";

    /**
     * Adds {@code bridge}'s rules (and the chains and jumps if missing); idempotent. The first stage is
     * jumped to from the top of FORWARD and from the firewall plugin's {@link #CNI_ADMIN}: the plugin puts its
     * own jump at the top of FORWARD when it first makes its chain, so on a host where that happened after
     * Berth's jump, FORWARD alone would accept a container's traffic to another network before these rules
     * saw it (its per-address accepts). Made here if the plugin has not made it yet; the plugin keeps it.
     */
    public static void add(String bridge) {
        ensureChain(STAGE1);
        ensureChain(STAGE2);
        ensure("FORWARD", List.of("-j", STAGE1), true);
        ensureChain(CNI_ADMIN);
        ensure(CNI_ADMIN, List.of("-j", STAGE1), true);
        ensure(STAGE1, List.of("-i", bridge, "!", "-o", bridge, "-j", STAGE2), false);
        ensure(STAGE2, List.of("-o", bridge, "-j", "DROP"), false);
    }

    /** Removes {@code bridge}'s rules; the chains stay. */
    public static void remove(String bridge) {
        delete(STAGE1, List.of("-i", bridge, "!", "-o", bridge, "-j", STAGE2));
        delete(STAGE2, List.of("-o", bridge, "-j", "DROP"));
    }

    private static void ensureChain(String chain) {
        if (Commands.run(List.of("iptables", "-w", "-t", "filter", "-n", "-L", chain)).exit() != 0) {
            Commands.Result r = Commands.run(List.of("iptables", "-w", "-t", "filter", "-N", chain));
            if (r.exit() != 0 && !r.output().contains("exists")) {
                throw new dev.berth.api.FailedPreconditionException("iptables -N " + chain + " failed: " + r.output());
            }
        }
    }

    private static void ensure(String chain, List<String> rule, boolean first) {
        if (Commands.run(concat(List.of("iptables", "-w", "-t", "filter", "-C", chain), rule)).exit() != 0) {
            Commands.check(concat(first ? List.of("iptables", "-w", "-t", "filter", "-I", chain, "1")
                    : List.of("iptables", "-w", "-t", "filter", "-A", chain), rule));
        }
    }

    private static void delete(String chain, List<String> rule) {
        while (Commands.run(concat(List.of("iptables", "-w", "-t", "filter", "-D", chain), rule)).exit() == 0) {
            // a rule added twice by racing processes is removed twice
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new java.util.ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
