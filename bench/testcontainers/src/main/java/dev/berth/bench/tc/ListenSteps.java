package dev.berth.bench.tc;

import dev.berth.api.internal.StepTimes;
import dev.berth.junit.BerthContainer;
import dev.berth.junit.ImageSource;
import dev.berth.junit.postgres.PostgreSQLContainer;
import java.nio.file.Path;

/**
 * The step log of workloads (a) and (c) on the junit side (issue 18): {@code n} listening containers (and
 * {@code pg} Postgres ones), each start with its steps ({@code junit-open junit-image ctr-* net-begin
 * runtime-create cni-join task-create task-start wait-ready}, ms since the mark before) and the stop's time.
 * With {@code -Dorg.slf4j.simpleLogger.log.dev.berth.timing=debug} the network's and CNI's own steps print
 * too. Same system properties as {@link FirstContainer}; {@code -Dbench.abSwitch=...} as in
 * {@link TestcontainersBench}, every other container (rows {@code listen-ab}). A diagnostic, not part of {@code bench/run}:
 * {@code ListenSteps <n> [pg]}.
 */
public final class ListenSteps {
    private ListenSteps() {
    }

    public static void main(String[] args) throws InterruptedException {
        System.setProperty("berth.junit.root", System.getProperty("bench.root"));
        System.setProperty("berth.junit.state", System.getProperty("bench.state"));
        System.setProperty("berth.junit.namespace", "bench-tc");
        ImageSource busybox = ImageSource.archive(Path.of(System.getProperty("bench.busyboxArchive")),
                System.getProperty("bench.busybox"));
        int n = Integer.parseInt(args[0]);
        int pg = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        for (int i = 0; i < n + pg; i++) {
            // -Dbench.abSwitch=...: every other container with those properties set (marked "ab")
            boolean off = !TestcontainersBench.AB_SWITCHES.isEmpty() && i % 2 == 1;
            TestcontainersBench.switchOff(off);
            BerthContainer<?> c = i < n
                    ? new BerthContainer<>(busybox).withCommand("httpd", "-f", "-p", "8080").withExposedPorts(8080)
                    : new PostgreSQLContainer(ImageSource.archive(Path.of(System.getProperty("bench.postgresArchive")),
                            System.getProperty("bench.postgres")));
            java.time.LocalTime wall = java.time.LocalTime.now();
            long t0 = System.nanoTime();
            StepTimes steps = StepTimes.begin();
            c.start();
            long t1 = System.nanoTime();
            if (c instanceof PostgreSQLContainer p) {
                TestcontainersBench.selectOne(new Side.Running() {
                    public String host() {
                        return p.host();
                    }

                    public int port() {
                        return p.getMappedPort();
                    }

                    public void close() {
                    }
                });
                StepTimes.mark("jdbc-select1");
            }
            long t2 = System.nanoTime();
            StepTimes.end();
            StepTimes stopSteps = StepTimes.begin();
            c.stop();
            long t3 = System.nanoTime();
            StepTimes.end();
            System.out.printf("STEPS %s%s %d at %s start %.1f ms (total %.1f): %s | stop %.1f ms: %s%n",
                    i < n ? "listen" : "postgres", off ? "-ab" : "", i, wall, (t1 - t0) / 1e6, (t2 - t0) / 1e6, steps.format(),
                    (t3 - t2) / 1e6, stopSteps.format());
            System.out.flush();
        }
        System.exit(0);
    }
}
