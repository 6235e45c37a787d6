package dev.berth.cri.internal;

import dev.berth.api.InvalidArgumentException;
import dev.berth.cri.internal.proto.Signal;
import java.util.Map;

/** Linux (x86-64) signal numbers by name, for stop signals from the CRI config or the image. */
final class Signals {
    private static final Map<String, Integer> NUMBERS = Map.ofEntries(
            Map.entry("SIGHUP", 1), Map.entry("SIGINT", 2), Map.entry("SIGQUIT", 3), Map.entry("SIGILL", 4),
            Map.entry("SIGTRAP", 5), Map.entry("SIGABRT", 6), Map.entry("SIGIOT", 6), Map.entry("SIGBUS", 7),
            Map.entry("SIGFPE", 8), Map.entry("SIGKILL", 9), Map.entry("SIGUSR1", 10), Map.entry("SIGSEGV", 11),
            Map.entry("SIGUSR2", 12), Map.entry("SIGPIPE", 13), Map.entry("SIGALRM", 14), Map.entry("SIGTERM", 15),
            Map.entry("SIGSTKFLT", 16), Map.entry("SIGCHLD", 17), Map.entry("SIGCLD", 17), Map.entry("SIGCONT", 18),
            Map.entry("SIGSTOP", 19), Map.entry("SIGTSTP", 20), Map.entry("SIGTTIN", 21), Map.entry("SIGTTOU", 22),
            Map.entry("SIGURG", 23), Map.entry("SIGXCPU", 24), Map.entry("SIGXFSZ", 25), Map.entry("SIGVTALRM", 26),
            Map.entry("SIGPROF", 27), Map.entry("SIGWINCH", 28), Map.entry("SIGIO", 29), Map.entry("SIGPOLL", 29),
            Map.entry("SIGPWR", 30), Map.entry("SIGSYS", 31), Map.entry("SIGRTMIN", 34), Map.entry("SIGRTMAX", 64));

    private Signals() {
    }

    /** The number of {@code name}: {@code SIGTERM}, {@code TERM}, {@code 15}, {@code SIGRTMIN+3}, {@code SIGRTMAXMINUS2}. */
    static int number(String name) {
        String n = name.trim().toUpperCase(java.util.Locale.ROOT);
        if (n.matches("[0-9]+")) {
            return Integer.parseInt(n);
        }
        if (!n.startsWith("SIG")) {
            n = "SIG" + n;
        }
        if (n.startsWith("SIGRTMINPLUS")) {
            return 34 + Integer.parseInt(n.substring("SIGRTMINPLUS".length()));
        }
        if (n.startsWith("SIGRTMAXMINUS")) {
            return 64 - Integer.parseInt(n.substring("SIGRTMAXMINUS".length()));
        }
        if (n.startsWith("SIGRTMIN+")) {
            return 34 + Integer.parseInt(n.substring("SIGRTMIN+".length()));
        }
        if (n.startsWith("SIGRTMAX-")) {
            return 64 - Integer.parseInt(n.substring("SIGRTMAX-".length()));
        }
        Integer v = NUMBERS.get(n);
        if (v == null) {
            throw new InvalidArgumentException("unknown signal \"" + name + "\"");
        }
        return v;
    }

    /** The CRI enum value of signal {@code number}, or null if it has none. */
    static Signal cri(int number) {
        for (Map.Entry<String, Integer> e : NUMBERS.entrySet()) {
            if (e.getValue() == number) {
                try {
                    return Signal.valueOf(e.getKey());
                } catch (IllegalArgumentException notInTheEnum) {
                    // try the next alias
                }
            }
        }
        return null;
    }
}
