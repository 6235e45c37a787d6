package dev.berth.bench;

import dev.berth.Berth;
import dev.berth.Namespace;
import dev.berth.RunOptions;
import dev.berth.api.task.RunResult;
import dev.berth.api.task.Task;
import dev.berth.testing.TestFiles;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Containers through the core facade ({@link Berth}) in this JVM against {@code ctr} and a containerd 1.6
 * that bench/run started, alternating Berth, containerd, Berth, ... after a warm-up of each:
 * <ul>
 *   <li>{@code run-echo}: busybox {@code echo hi} to exit and removal ({@code runAndWait} with rm vs
 *       {@code ctr run --rm}), 6 per pair, after 40 warm-up runs per side ({@code bench.echoWarmup}), which
 *       are reported as {@code run-echo-warmup}: the baseline is a long-lived process (and compiled ahead
 *       of time), and the JVM's compiler is still busy for about its first 50 runs;</li>
 *   <li>with {@code bench.goClient} (the path of bench/goclient, built by bench/run): the fair embedded
 *       baseline of issue 23, containerd's Go client in one long-lived process. {@code run-echo-pertask}:
 *       a second Berth with its defaults (a shim per task) vs the Go client with a shim per task;
 *       {@code run-echo-grouped}: the shared-shim Berth's run (the same measurement as {@code run-echo})
 *       vs the Go client with the runc shim's group annotation and a warm group shim. Both interleave with
 *       the {@code run-echo} runs;</li>
 *   <li>{@code start-20}: 20 containers of {@code sleep} started concurrently (20 threads calling
 *       {@code run} vs 20 concurrent {@code ctr run -d}), wall time until every one has started;</li>
 *   <li>{@code mem-task}: with those 20 running, per task: the shims' PSS plus the JVM's heap growth
 *       (used heap after GC) vs the shims' PSS plus containerd's RSS growth; {@code mem-task-rss} the same
 *       with the JVM's RSS growth.</li>
 * </ul>
 * Prints one {@code BENCH <workload> <side> <value>} line per measurement (seconds, or KiB for memory).
 * Not a test; run by {@code bench/run}.
 *
 * <p>Usage: {@code RunBench <pairs> <busybox image archive> <image name> <containerd socket> <containerd pid>}
 * with system properties {@code bench.base} (work directory, default {@code /var/tmp}), {@code bench.state}
 * (Berth's state directory, default {@code <work directory>/state}),
 * {@code bench.spareShim} (default: Berth's default, a spare shim; with the Go client a third Berth
 * without the spare is measured beside it, {@code run-echo-pertask-nospare}, for an A/B in one run), {@code bench.sharedShims} (default true: Berth's tasks share warm shims, {@link Berth.Builder#sharedShims};
 * false: one shim per task like ctr), {@code bench.ctrSpec} (default true: Berth runs the same spec as
 * {@code ctr run}, see {@link #options}) and {@code bench.syncSnapshotRemoval} (default false: the
 * directories of removed snapshots are left to garbage collection, as containerd's overlay snapshotter
 * does). The configuration used is printed first.
 */
public final class RunBench {
    private static final int CONCURRENT = 20;
    private static final int ECHO_PER_PAIR = 6; // 30 per side with bench/run's 5 pairs, as issue 8 asks
    private static final int ECHO_WARMUP = Integer.getInteger("bench.echoWarmup", 40);
    private static final long SETTLE_MS = Long.getLong("bench.settleMillis", 200);
    private static final String SHIM = "containerd-shim-runc-v2";
    private static final String BERTH_NS = "bench-berth";
    private static final String CTR_NS = "bench-run";
    private static final String CTR_TASKS_NS = "bench-run-20";
    private static final String GO_NS = "bench-go";
    /**
     * A system property that switches a change off ({@code -Dbench.abSwitch=berth.syncEphemeralBackends}):
     * with the Go client, each echo round also runs the defaults and the shared Berth with it set to true
     * ({@code run-echo-pertask-ab}, {@code run-echo-grouped-ab}, against the same Go runs). After every
     * Berth run the bench waits for its removal, which goes on after {@code runAndWait} returned, and prints
     * that wait as {@code run-echo-<row>-background} ({@code -Dbench.abSwitch=berth.run.removeBeforeReturn}
     * is the A/B of that), and the CPU time the JVM's threads spent during the run as
     * {@code run-echo-<row>-jvmcpu}.
     */
    private static final String AB_SWITCH = System.getProperty("bench.abSwitch", "");

    private final String image;
    private final String socket;
    private final long containerdPid;
    private final boolean sharedShims;
    private final boolean ctrSpec = Boolean.parseBoolean(System.getProperty("bench.ctrSpec", "true"));
    /** Berth with its defaults (a shim per task), beside the configured one; with the Go client only. */
    private Namespace defaultNs;
    /** Like {@link #defaultNs} without the spare shim, when the defaults have it: the A/B of the spare. */
    private Namespace noSpareNs;
    private GoClient go;

    private RunBench(String image, String socket, long containerdPid, boolean sharedShims) {
        this.image = image;
        this.socket = socket;
        this.containerdPid = containerdPid;
        this.sharedShims = sharedShims;
    }

    public static void main(String[] args) throws Exception {
        int pairs = Integer.parseInt(args[0]);
        Path archive = Path.of(args[1]);
        boolean shared = Boolean.parseBoolean(System.getProperty("bench.sharedShims", "true"));
        RunBench bench = new RunBench(args[2], args[3], Long.parseLong(args[4]), shared);
        Path base = Files.createTempDirectory(Path.of(System.getProperty("bench.base", "/var/tmp")), "berth-run-bench-");
        // containerd's overlay snapshotter removes only the record and leaves the directory to its GC
        boolean syncRemoval = Boolean.parseBoolean(System.getProperty("bench.syncSnapshotRemoval", "false"));
        System.out.println("Berth configuration: " + (shared ? "shared shims (warm, up to one per CPU per namespace)"
                : "one shim per task") + (bench.ctrSpec ? ", ctr run's spec (no /sys/fs/cgroup mount)"
                : ", Berth's default spec") + (syncRemoval ? ", snapshot directories removed at once"
                : ", snapshot directories left to GC (as containerd)") + ", work directory " + base);
        // bench/run keeps the state directory on tmpfs, as Berth's default /run/berth and containerd's state
        Path state = Path.of(System.getProperty("bench.state", base.resolve("state").toString()));
        String goClient = System.getProperty("bench.goClient", "");
        // the spare shim (Berth.Builder#spareShim, on by default); false measures the path without it
        String spareProperty = System.getProperty("bench.spareShim");
        Berth.Builder defaultsBuilder = Berth.builder().root(base.resolve("root-default"))
                .stateDir(Path.of(state + "-default")).syncSnapshotRemoval(syncRemoval);
        if (spareProperty != null) {
            defaultsBuilder.spareShim(Boolean.parseBoolean(spareProperty));
        }
        boolean spareShim = spareProperty == null || Boolean.parseBoolean(spareProperty);
        try (Berth berth = Berth.builder().root(base.resolve("root")).stateDir(state)
                .sharedShims(shared).syncSnapshotRemoval(syncRemoval).build();
             Berth defaults = defaultsBuilder.build();
             Berth noSpare = Berth.builder().root(base.resolve("root-nospare")).stateDir(Path.of(state + "-nospare"))
                .syncSnapshotRemoval(syncRemoval).spareShim(false).build()) {
            Namespace ns = berth.namespace(BERTH_NS);
            ns.importImage(archive);
            bench.ctr("-n", CTR_NS, "images", "import", archive.toString());
            bench.ctr("-n", CTR_TASKS_NS, "images", "import", archive.toString());
            if (!goClient.isEmpty()) {
                System.out.println("second Berth with its defaults (a shim per task" + (spareShim ? ", a spare shim"
                        : ", no spare shim") + "), snapshot removal as above;"
                        + " Go client " + goClient);
                bench.defaultNs = defaults.namespace(BERTH_NS);
                bench.defaultNs.importImage(archive);
                if (spareShim) {
                    System.out.println("third Berth like the second without the spare shim (A/B in this run)");
                    bench.noSpareNs = noSpare.namespace(BERTH_NS);
                    bench.noSpareNs.importImage(archive);
                }
                bench.ctr("-n", GO_NS, "images", "import", archive.toString());
                bench.go = GoClient.start(goClient, args[3], GO_NS, args[2]);
            }
            try {
                bench.run(ns, pairs);
            } finally {
                if (bench.go != null) {
                    bench.go.close();
                }
            }
        }
        TestFiles.deleteTree(base); // not after a failure: a container's rootfs might still be mounted under it
    }

    private void run(Namespace ns, int pairs) throws Exception {
        // The JVM's first containers run largely interpreted code; they are reported apart (run-echo-warmup).
        for (int i = 0; i < ECHO_WARMUP; i++) {
            System.out.printf("BENCH run-echo-warmup berth %.4f%n", berthEcho(ns, "warm-" + i));
            System.out.printf("BENCH run-echo-warmup containerd %.4f%n", ctrEcho("warm-" + i));
            if (go != null) {
                System.out.printf("warm-up: Berth default %.4f, Go client per task %.4f, grouped %.4f%n",
                        berthEcho(defaultNs, "warm-" + i), go.run("warm-p-" + i, false), go.run("warm-g-" + i, true));
                if (noSpareNs != null) {
                    System.out.printf("warm-up: Berth without the spare %.4f%n", berthEcho(noSpareNs, "warm-" + i));
                }
            }
        }
        for (int p = 0; p < pairs; p++) {
            for (int i = 0; i < ECHO_PER_PAIR; i++) {
                String id = "echo-" + p + "-" + i;
                settle();
                double shared = berthEcho(ns, id);
                System.out.printf("BENCH run-echo berth %.4f%n", shared);
                settle();
                System.out.printf("BENCH run-echo containerd %.4f%n", ctrEcho(id));
                if (go != null) {
                    settle();
                    System.out.printf("BENCH run-echo-pertask berth %.4f%n", berthEcho(defaultNs, id));
                    settle();
                    double goPerTask = go.run(id + "-p", false);
                    System.out.printf("BENCH run-echo-pertask containerd %.4f%n", goPerTask);
                    if (noSpareNs != null) {
                        settle();
                        System.out.printf("BENCH run-echo-pertask-nospare berth %.4f%n", berthEcho(noSpareNs, id));
                        System.out.printf("BENCH run-echo-pertask-nospare containerd %.4f%n", goPerTask);
                    }
                    System.out.printf("BENCH run-echo-grouped berth %.4f%n", shared);
                    settle();
                    double goGrouped = go.run(id + "-g", true);
                    System.out.printf("BENCH run-echo-grouped containerd %.4f%n", goGrouped);
                    if (!AB_SWITCH.isEmpty()) {
                        // the same two Berths with the switch set: the change it turns off, A/B in this run
                        System.setProperty(AB_SWITCH, "true");
                        try {
                            settle();
                            System.out.printf("BENCH run-echo-pertask-ab berth %.4f%n", berthEcho(defaultNs, id + "-ab"));
                            System.out.printf("BENCH run-echo-pertask-ab containerd %.4f%n", goPerTask);
                            settle();
                            System.out.printf("BENCH run-echo-grouped-ab berth %.4f%n", berthEcho(ns, id + "-ab"));
                            System.out.printf("BENCH run-echo-grouped-ab containerd %.4f%n", goGrouped);
                        } finally {
                            System.clearProperty(AB_SWITCH);
                        }
                    }
                }
            }
        }
        System.out.println("run-echo done");

        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENT);
        try {
            berthConcurrent(ns, pool, "warm");
            ctrConcurrent(pool, "warm");
            for (int p = 0; p < pairs; p++) {
                berthConcurrent(ns, pool, "r" + p);
                ctrConcurrent(pool, "r" + p);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Berth's default spec adds the read-only {@code /sys/fs/cgroup} mount of containerd's CRI plugin, which
     * {@code ctr run} does not (runc then mounts every cgroup v1 hierarchy into the container), and the
     * default seccomp profile, which {@code ctr run} applies only with {@code --seccomp}. For a
     * like-for-like run both sides get ctr's spec, unless {@code -Dbench.ctrSpec=false}.
     */
    private RunOptions.Builder options(String id) {
        RunOptions.Builder b = RunOptions.builder().id(id);
        if (ctrSpec) {
            b.spec(s -> s.seccompUnconfined().customize(spec -> spec.toBuilder().mounts(spec.mounts().stream()
                    .filter(m -> !m.destination().equals("/sys/fs/cgroup")).toList()).build()));
        }
        return b;
    }

    /**
     * A pause between measured runs, so that what one side does after its run has returned (containerd's
     * shim exit and garbage collection, Berth's garbage collection) does not land in the next
     * measurement, which may be the other side's.
     */
    private static void settle() throws InterruptedException {
        Thread.sleep(SETTLE_MS);
    }

    private double berthEcho(Namespace ns, String id) throws InterruptedException {
        long cpu0 = jvmCpuNanos();
        long t0 = System.nanoTime();
        RunResult r = ns.runAndWait(image, options(id).args("/bin/echo", "hi").rm(true).build());
        long t1 = System.nanoTime();
        long cpu1 = jvmCpuNanos();
        double s = (t1 - t0) / 1e9;
        if (r.exitCode() != 0 || !r.stdout().equals("hi\n")) {
            throw new IllegalStateException("berth echo failed: " + r);
        }
        // the task's deletion and the container's removal run on after runAndWait returned: they end before
        // any other measured run starts, so none of it lands in another row's time; how long they ran on
        // is a row of its own (run-echo-*-background, 0 with berth.run.removeBeforeReturn=true)
        ns.awaitRemovals();
        if (id.startsWith("echo-")) {
            String row = ns == defaultNs ? "pertask" : ns == noSpareNs ? "pertask-nospare" : "grouped";
            System.out.printf("BENCH run-echo-%s%s-background berth %.4f%n", row, id.endsWith("-ab") ? "-ab" : "",
                    (System.nanoTime() - t1) / 1e9);
            // what the JVM's threads (JIT, GC and Berth's own) spent on the CPU during the run, beside runc
            System.out.printf("BENCH run-echo-%s%s-jvmcpu berth %.4f%n", row, id.endsWith("-ab") ? "-ab" : "",
                    (cpu1 - cpu0) / 1e9);
        }
        return s;
    }

    /** The CPU time of all of this JVM's threads so far, in ns ({@code /proc/self/task/N/schedstat}). */
    private static long jvmCpuNanos() {
        long total = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    String stat = Files.readString(t.resolve("schedstat"));
                    total += Long.parseLong(stat.substring(0, stat.indexOf(' ')));
                } catch (IOException | RuntimeException gone) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return total;
    }

    private double ctrEcho(String id) throws Exception {
        long t0 = System.nanoTime();
        String out = ctr("-n", CTR_NS, "run", "--rm", image, id, "/bin/echo", "hi");
        double s = (System.nanoTime() - t0) / 1e9;
        if (!out.equals("hi\n")) {
            throw new IllegalStateException("ctr run printed '" + out + "'");
        }
        return s;
    }

    private void berthConcurrent(Namespace ns, ExecutorService pool, String round) throws Exception {
        String nsName = ns.name();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long heapBefore = usedHeapAfterGc(memory);
        long rssBefore = rssKiB(ProcessHandle.current().pid());
        List<Callable<Task>> starts = new ArrayList<>();
        for (int i = 0; i < CONCURRENT; i++) {
            String id = "c-" + round + "-" + i;
            starts.add(() -> ns.run(image, options(id).args("/bin/sleep", "600").build()));
        }
        long t0 = System.nanoTime();
        List<Future<Task>> started = pool.invokeAll(starts);
        List<Task> tasks = new ArrayList<>();
        for (Future<Task> f : started) {
            tasks.add(f.get());
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        long heapDelta = usedHeapAfterGc(memory) - heapBefore;
        long rssDelta = rssKiB(ProcessHandle.current().pid()) - rssBefore;
        long shims = shimPssKiB(nsName, sharedShims ? 1 : CONCURRENT);
        report(round, "berth", secs, shims, heapDelta / 1024, rssDelta);
        List<Callable<Void>> removals = new ArrayList<>();
        for (Task t : tasks) {
            removals.add(() -> {
                t.kill(9);
                t.waitFor();
                ns.containers().get(t.id()).delete();
                return null;
            });
        }
        for (Future<Void> f : pool.invokeAll(removals)) {
            f.get();
        }
    }

    private void ctrConcurrent(ExecutorService pool, String round) throws Exception {
        String nsName = CTR_TASKS_NS;
        long rssBefore = rssKiB(containerdPid);
        List<Callable<String>> starts = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < CONCURRENT; i++) {
            String id = "c-" + round + "-" + i;
            ids.add(id);
            starts.add(() -> ctr("-n", nsName, "run", "-d", image, id, "/bin/sleep", "600"));
        }
        long t0 = System.nanoTime();
        for (Future<String> f : pool.invokeAll(starts)) {
            f.get();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        long rssDelta = rssKiB(containerdPid) - rssBefore;
        long shims = shimPssKiB(nsName, CONCURRENT);
        report(round, "containerd", secs, shims, rssDelta, rssDelta);
        System.out.printf("containerd RSS %d KiB with %d tasks (whole-daemon share %.0f KiB per task)%n",
                rssKiB(containerdPid), CONCURRENT, rssKiB(containerdPid) / (double) CONCURRENT);
        List<Callable<Void>> removals = new ArrayList<>();
        for (String id : ids) {
            removals.add(() -> {
                ctr("-n", nsName, "task", "delete", "--force", id);
                ctr("-n", nsName, "containers", "delete", id);
                return null;
            });
        }
        for (Future<Void> f : pool.invokeAll(removals)) {
            f.get();
        }
    }

    private static void report(String round, String side, double secs, long shimsKiB, long processDeltaKiB,
            long rssDeltaKiB) {
        System.out.printf("%s %s: %d started in %.3f s; shims PSS %d KiB, process growth %d KiB (RSS %d KiB)%n",
                round, side, CONCURRENT, secs, shimsKiB, processDeltaKiB, rssDeltaKiB);
        if (round.equals("warm")) {
            return;
        }
        // a process that shrank meanwhile (Go or Java GC returning memory) did not pay negative memory per task
        processDeltaKiB = Math.max(0, processDeltaKiB);
        rssDeltaKiB = Math.max(0, rssDeltaKiB);
        System.out.printf("BENCH start-20 %s %.4f%n", side, secs);
        System.out.printf("BENCH mem-task %s %.1f%n", side, (shimsKiB + processDeltaKiB) / (double) CONCURRENT);
        System.out.printf("BENCH mem-task-rss %s %.1f%n", side, (shimsKiB + rssDeltaKiB) / (double) CONCURRENT);
    }

    /** The summed PSS of the runc shims serving namespace {@code ns}. */
    private static long shimPssKiB(String ns, int expected) throws IOException {
        long total = 0;
        int found = 0;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    List<String> argv = Arrays.asList(
                            new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8).split("\0"));
                    int at = argv.indexOf("-namespace");
                    if (argv.isEmpty() || !argv.get(0).endsWith(SHIM) || at < 0 || at + 1 >= argv.size()
                            || !argv.get(at + 1).equals(ns)) {
                        continue;
                    }
                    for (String line : Files.readAllLines(proc.resolve("smaps_rollup"))) {
                        if (line.startsWith("Pss:")) {
                            total += Long.parseLong(line.replaceAll("\\D", ""));
                            found++;
                        }
                    }
                } catch (IOException gone) {
                    // exited while listing
                }
            }
        }
        System.out.printf("%d shims serve namespace %s%n", found, ns);
        if (found < expected) {
            throw new IllegalStateException("expected " + expected + " shims in namespace " + ns + ", found " + found);
        }
        return total;
    }

    private static long rssKiB(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }

    private static long usedHeapAfterGc(MemoryMXBean memory) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    /** bench/goclient: one {@code run} per line on its stdin, its own timing of the cycle on stdout. */
    private record GoClient(Process process, java.io.BufferedWriter in, java.io.BufferedReader out) {
        static GoClient start(String binary, String socket, String namespace, String image) throws IOException {
            Process p = new ProcessBuilder(binary, "-address", socket, "-namespace", namespace, "-image", image)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            return new GoClient(p, new java.io.BufferedWriter(new java.io.OutputStreamWriter(p.getOutputStream(),
                    StandardCharsets.UTF_8)), new java.io.BufferedReader(new java.io.InputStreamReader(
                    p.getInputStream(), StandardCharsets.UTF_8)));
        }

        double run(String id, boolean grouped) throws IOException {
            in.write("run " + id + " " + (grouped ? "grouped" : "pertask") + "\n");
            in.flush();
            String line = out.readLine();
            if (line == null || !line.startsWith("ok ")) {
                throw new IllegalStateException("Go client run " + id + ": " + line);
            }
            return Double.parseDouble(line.substring(3));
        }

        void close() throws IOException, InterruptedException {
            in.write("quit\n");
            in.flush();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    private String ctr(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ctr", "-a", socket));
        cmd.addAll(Arrays.asList(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }
}
