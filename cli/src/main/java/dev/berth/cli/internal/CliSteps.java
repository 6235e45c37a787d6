package dev.berth.cli.internal;

import java.io.PrintStream;
import java.time.Instant;

/**
 * Where one CLI call's time goes, for the benchmark's breakdown: with {@code BERTH_CLI_STEPS=1} (or
 * {@code -Dberth.cli.steps=true}) each step's wall time since the previous mark goes to stderr when the
 * JVM exits, as one line {@code berth steps: launch->main 312 ms, model 80 ms, ...}. {@code launch} is
 * bin/berth's clock just before it runs java ({@code -Dberth.cli.launchedAt}, epoch seconds with
 * microseconds), so the first step is the JVM's own start. Off, a mark costs one static read.
 */
public final class CliSteps {
    private static final boolean ON = System.getenv("BERTH_CLI_STEPS") != null || Boolean.getBoolean("berth.cli.steps");
    private static final int MAX = 32;
    private static final String[] NAMES = new String[MAX];
    private static final long[] MICROS = new long[MAX];
    private static int count;

    private CliSteps() {
    }

    /** Whether steps are recorded in this JVM. */
    public static boolean on() {
        return ON;
    }

    /** Marks the end of step {@code name}; the first mark also records the launcher's start, if known. */
    public static synchronized void mark(String name) {
        if (!ON || count == MAX) {
            return;
        }
        if (count == 0) {
            String launched = System.getProperty("berth.cli.launchedAt");
            if (launched != null) {
                NAMES[0] = "launch";
                MICROS[0] = parseMicros(launched);
                count = 1;
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> print(System.err), "berth-cli-steps"));
        }
        Instant now = Instant.now();
        NAMES[count] = name;
        MICROS[count] = now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
        count++;
    }

    static long parseMicros(String epochSeconds) {
        int dot = epochSeconds.indexOf('.');
        if (dot < 0) {
            return Long.parseLong(epochSeconds) * 1_000_000L;
        }
        String frac = (epochSeconds.substring(dot + 1) + "000000").substring(0, 6);
        return Long.parseLong(epochSeconds.substring(0, dot)) * 1_000_000L + Long.parseLong(frac);
    }

    static synchronized void print(PrintStream err) {
        mark("exit-hook");
        StringBuilder line = new StringBuilder("berth steps:");
        for (int i = 1; i < count; i++) {
            line.append(i == 1 ? " " : ", ").append(NAMES[i - 1]).append("->").append(NAMES[i]).append(' ')
                    .append((MICROS[i] - MICROS[i - 1]) / 1000).append(" ms");
        }
        line.append("; total ").append((MICROS[count - 1] - MICROS[0]) / 1000).append(" ms");
        err.println(line);
        err.flush();
    }
}
