package dev.berth.bench;

import dev.berth.Berth;
import dev.berth.Namespace;
import dev.berth.RunOptions;
import dev.berth.api.task.RunResult;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A quick probe of {@code runAndWait}'s step log (not a benchmark, not a test): runs {@code echo hi}
 * {@code <runs>} times on a Berth with its defaults and on one with shared shims, alternating, with
 * {@code -Dorg.slf4j.simpleLogger.log.dev.berth.timing=debug} printing the steps. With
 * {@code -Dprobe.ab=<property>} every other run of each Berth sets that system property to true (the
 * A/B of a switch, interleaved). After each run a {@code THREADS} line gives this JVM's CPU time during
 * the run per thread name (from {@code /proc/self/task/N/schedstat}) and a {@code PROBE} line the wall
 * time, the removal after the return and the process CPU time. Usage: {@code RunStepsProbe <runs> <busybox archive> <image name>}.
 */
public final class RunStepsProbe {
    public static void main(String[] args) throws Exception {
        int runs = Integer.parseInt(args[0]);
        Path archive = Path.of(args[1]);
        String image = args[2];
        String ab = System.getProperty("probe.ab", "");
        Path base = Files.createTempDirectory(Path.of("/var/tmp"), "berth-steps-probe-");
        try (Berth defaults = Berth.builder().root(base.resolve("root-d")).stateDir(base.resolve("state-d")).build();
             Berth shared = Berth.builder().root(base.resolve("root-s")).stateDir(base.resolve("state-s"))
                     .sharedShims(true).build()) {
            Namespace d = defaults.namespace("probe");
            Namespace s = shared.namespace("probe");
            d.importImage(archive);
            s.importImage(archive);
            if (Boolean.getBoolean("probe.dumpSpec")) {
                var t = d.run(image, RunOptions.builder().id("spec")
                        .spec(sp -> sp.seccompUnconfined().customize(spec -> spec.toBuilder().mounts(spec.mounts()
                                .stream().filter(m -> !m.destination().equals("/sys/fs/cgroup")).toList()).build()))
                        .args("/bin/sleep", "1").rm(true).build());
                System.out.println("SPEC " + Files.readString(base.resolve("state-d/tasks/probe/spec/config.json")));
                t.waitFor();
            }
            for (int i = 0; i < runs; i++) {
                boolean b = !ab.isEmpty() && i % 2 == 1;
                if (!ab.isEmpty()) {
                    System.setProperty(ab, Boolean.toString(b));
                }
                for (Namespace ns : new Namespace[] {d, s}) {
                    Thread.sleep(150);
                    com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                            java.lang.management.ManagementFactory.getOperatingSystemMXBean();
                    long cpu0 = os.getProcessCpuTime();
                    java.util.Map<String, Long> sched0 = schedByThread();
                    long t0 = System.nanoTime();
                    RunResult r = ns.runAndWait(image, RunOptions.builder().id("p-" + i)
                            .spec(sp -> sp.seccompUnconfined().customize(spec -> spec.toBuilder().mounts(spec.mounts()
                                    .stream().filter(m -> !m.destination().equals("/sys/fs/cgroup")).toList()).build()))
                            .args("/bin/echo", "hi").rm(true).build());
                    if (r.exitCode() != 0 || !r.stdout().equals("hi\n")) {
                        throw new IllegalStateException("echo failed: " + r);
                    }
                    long t1 = System.nanoTime();
                    long cpu1 = os.getProcessCpuTime();
                    java.util.Map<String, Long> sched1 = schedByThread();
                    StringBuilder top = new StringBuilder();
                    long sum = 0;
                    for (var e : sched1.entrySet()) {
                        long dt = e.getValue() - sched0.getOrDefault(e.getKey(), 0L);
                        sum += dt;
                        if (dt > 300_000) {
                            top.append(' ').append(e.getKey().replace(' ', '_')).append('=').append(String.format("%.1f", dt / 1e6));
                        }
                    }
                    System.out.printf("THREADS %s %d total %.1f ms:%s%n", ns == d ? "defaults" : "shared", i, sum / 1e6, top);
                    ns.awaitRemovals();
                    System.out.printf("PROBE %s %s %d %.1f background %.1f jvm-cpu %.1f%n", ns == d ? "defaults" : "shared",
                            b ? "B" : "A", i, (t1 - t0) / 1e6, (System.nanoTime() - t1) / 1e6, (cpu1 - cpu0) / 1e6);
                }
            }
        }
        dev.berth.testing.TestFiles.deleteTree(base);
    }

    /** On-CPU nanoseconds per thread name (summed over threads of one name) from /proc/self/task/N/schedstat. */
    private static java.util.Map<String, Long> schedByThread() throws java.io.IOException {
        java.util.Map<String, Long> m = new java.util.TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    String name = Files.readString(t.resolve("comm")).trim().replaceAll("\\d+$", "#");
                    long ns = Long.parseLong(Files.readString(t.resolve("schedstat")).trim().split(" ")[0]);
                    m.merge(name, ns, Long::sum);
                } catch (java.io.IOException | RuntimeException gone) {
                    // thread ended meanwhile
                }
            }
        }
        return m;
    }
}
