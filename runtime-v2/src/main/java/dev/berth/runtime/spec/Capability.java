package dev.berth.runtime.spec;

import dev.berth.api.InvalidArgumentException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The Linux capabilities, numbered as in {@code <linux/capability.h>}; {@link #specName()} is the name an
 * OCI spec uses ({@code CAP_CHOWN}).
 */
public enum Capability {
    CHOWN(0), DAC_OVERRIDE(1), DAC_READ_SEARCH(2), FOWNER(3), FSETID(4), KILL(5), SETGID(6), SETUID(7),
    SETPCAP(8), LINUX_IMMUTABLE(9), NET_BIND_SERVICE(10), NET_BROADCAST(11), NET_ADMIN(12), NET_RAW(13),
    IPC_LOCK(14), IPC_OWNER(15), SYS_MODULE(16), SYS_RAWIO(17), SYS_CHROOT(18), SYS_PTRACE(19), SYS_PACCT(20),
    SYS_ADMIN(21), SYS_BOOT(22), SYS_NICE(23), SYS_RESOURCE(24), SYS_TIME(25), SYS_TTY_CONFIG(26), MKNOD(27),
    LEASE(28), AUDIT_WRITE(29), AUDIT_CONTROL(30), SETFCAP(31), MAC_OVERRIDE(32), MAC_ADMIN(33), SYSLOG(34),
    WAKE_ALARM(35), BLOCK_SUSPEND(36), AUDIT_READ(37), PERFMON(38), BPF(39), CHECKPOINT_RESTORE(40);

    private final int number;

    Capability(int number) {
        this.number = number;
    }

    /** The kernel's number for this capability (its bit in {@code CapBnd}). */
    public int number() {
        return number;
    }

    /** The name in an OCI spec, e.g. {@code CAP_NET_RAW}. */
    public String specName() {
        return "CAP_" + name();
    }

    /**
     * The capability named {@code name}, with or without the {@code CAP_} prefix, in any case
     * ({@code net_raw}, {@code CAP_NET_RAW}).
     *
     * @throws InvalidArgumentException if no Linux capability has that name
     */
    public static Capability parse(String name) {
        return find(name).orElseThrow(() -> new InvalidArgumentException(
                "unknown capability \"" + name + "\"; known: CAP_CHOWN ... CAP_CHECKPOINT_RESTORE"));
    }

    /** The capability named {@code name} (as {@link #parse}), or empty. */
    public static Optional<Capability> find(String name) {
        if (name == null) {
            return Optional.empty();
        }
        String upper = name.trim().toUpperCase(Locale.ROOT);
        if (upper.startsWith("CAP_")) {
            upper = upper.substring(4);
        }
        for (Capability c : values()) {
            if (c.name().equals(upper)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /**
     * The bounding set of this JVM, read from {@code /proc/self/status}: the most a container it starts can
     * get, since the shim and runc inherit it. Empty if it cannot be read (not Linux).
     */
    public static Optional<Set<Capability>> currentBoundingSet() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapBnd:")) {
                    long mask = Long.parseUnsignedLong(line.substring("CapBnd:".length()).trim(), 16);
                    Set<Capability> caps = EnumSet.noneOf(Capability.class);
                    for (Capability c : values()) {
                        if ((mask & (1L << c.number)) != 0) {
                            caps.add(c);
                        }
                    }
                    return Optional.of(caps);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or /proc unavailable: callers fall back to the full list.
        }
        return Optional.empty();
    }
}
