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
 * A/B of a switch, interleaved). Usage: {@code RunStepsProbe <runs> <busybox archive> <image name>}.
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
                    long t0 = System.nanoTime();
                    RunResult r = ns.runAndWait(image, RunOptions.builder().id("p-" + i)
                            .spec(sp -> sp.seccompUnconfined().customize(spec -> spec.toBuilder().mounts(spec.mounts()
                                    .stream().filter(m -> !m.destination().equals("/sys/fs/cgroup")).toList()).build()))
                            .args("/bin/echo", "hi").rm(true).build());
                    if (r.exitCode() != 0 || !r.stdout().equals("hi\n")) {
                        throw new IllegalStateException("echo failed: " + r);
                    }
                    long t1 = System.nanoTime();
                    ns.awaitRemovals();
                    System.out.printf("PROBE %s %s %d %.1f background %.1f%n", ns == d ? "defaults" : "shared",
                            b ? "B" : "A", i, (t1 - t0) / 1e6, (System.nanoTime() - t1) / 1e6);
                }
            }
        }
        dev.berth.testing.TestFiles.deleteTree(base);
    }
}
