package dev.berth.bench.tc;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Workloads (a) and (c) of issue 18 for one side in this JVM (bench/run starts one JVM per side):
 * <ul>
 *   <li>{@code tc-listen}: a busybox container with a published port until the listening-port wait
 *       passes, {@code listen} times in a row after 2 warm-up ones; {@code tc-listen-stop} the stop and
 *       removal of each (context);</li>
 *   <li>{@code tc-postgres}: the Postgres container until a JDBC {@code select 1} through the published port
 *       succeeds, {@code postgres} times after one warm-up ({@code tc-postgres-warmup}).</li>
 * </ul>
 * Prints {@code BENCH <workload> <side> <seconds>} lines. Usage: {@code TestcontainersBench <side> <listen>
 * <postgres>} with the system properties {@link Side#open} reads. Not a test; run by {@code bench/run}.
 */
public final class TestcontainersBench {
    /**
     * {@code -Dbench.abSwitch=<property>[=<value>][,...]} (value {@code true} if not given): the Berth sides run
     * each container twice, alternating, once as they are and once with those properties set (rows of side
     * {@code <side>-ab}), e.g. {@code berth.junit.portForward=false}.
     */
    static final java.util.Map<String, String> AB_SWITCHES = abSwitches(System.getProperty("bench.abSwitch", ""));

    private TestcontainersBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: TestcontainersBench <berth|testcontainers> <listen count> <postgres count>");
            System.exit(2);
        }
        int listen = Integer.parseInt(args[1]);
        int postgres = Integer.parseInt(args[2]);
        try (Side side = Side.open(args[0])) {
            boolean ab = !AB_SWITCHES.isEmpty() && !side.name().equals("testcontainers");
            for (int i = 0; i < 2; i++) {
                side.listening().close();
            }
            for (int i = 0; i < listen; i++) {
                for (boolean off : ab ? new boolean[] {i % 2 == 1, i % 2 == 0} : new boolean[] {false}) {
                    switchOff(off);
                    String suffix = off ? "-ab" : "";
                    long t0 = System.nanoTime();
                    Side.Running r = side.listening();
                    long t1 = System.nanoTime();
                    r.close();
                    long t2 = System.nanoTime();
                    report("tc-listen", side.name() + suffix, t1 - t0);
                    report("tc-listen-stop", side.name() + suffix, t2 - t1);
                }
            }
            switchOff(false);
            for (int i = 0; i <= postgres; i++) {
                for (boolean off : ab && i > 0 ? new boolean[] {i % 2 == 0, i % 2 == 1} : new boolean[] {false}) {
                    switchOff(off);
                    long t0 = System.nanoTime();
                    try (Side.Running r = side.postgres()) {
                        selectOne(r);
                        report(i == 0 ? "tc-postgres-warmup" : "tc-postgres", side.name() + (off ? "-ab" : ""),
                                System.nanoTime() - t0);
                    }
                }
            }
            switchOff(false);
        }
        System.exit(0);   // Testcontainers leaves non-daemon threads behind
    }

    /** Polls until {@code select 1} returns 1 (a refused or reset connection is the server still starting). */
    static void selectOne(Side.Running r) throws InterruptedException {
        String url = "jdbc:postgresql://" + r.host() + ":" + r.port() + "/test";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            try (Connection c = DriverManager.getConnection(url, "test", "test");
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select 1")) {
                if (rs.next() && rs.getInt(1) == 1) {
                    return;
                }
            } catch (SQLException e) {
                last = e;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        throw new IllegalStateException("select 1 on " + url + " did not succeed within 120 s", last);
    }

    static java.util.Map<String, String> abSwitches(String spec) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String s : spec.split(",")) {
            if (!s.isBlank()) {
                int eq = s.indexOf('=');
                out.put(eq < 0 ? s.strip() : s.substring(0, eq).strip(), eq < 0 ? "true" : s.substring(eq + 1).strip());
            }
        }
        return out;
    }

    static void switchOff(boolean off) {
        AB_SWITCHES.forEach((k, v) -> {
            if (off) {
                System.setProperty(k, v);
            } else {
                System.clearProperty(k);
            }
        });
    }

    static void report(String workload, Side side, long nanos) {
        report(workload, side.name(), nanos);
    }

    static void report(String workload, String side, long nanos) {
        System.out.printf("BENCH %s %s %.6f%n", workload, side, nanos / 1e9);
        System.out.flush();
    }
}
