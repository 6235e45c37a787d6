package dev.berth.bench;

import dev.berth.Berth;
import dev.berth.Namespace;
import dev.berth.RunOptions;
import dev.berth.api.task.Task;
import dev.berth.testing.TestFiles;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Issue 16's check that processes sharing one root do not slow each other down: 20 containers of
 * {@code sleep} started concurrently from one JVM ({@code one}) against 10 + 10 started at the same moment
 * from this JVM and a second one on the same root and state directory ({@code two}), alternating, after a
 * warm-up of each. Wall time until every container has started. Prints
 * {@code BENCH start-20-split one|two <seconds>}. Not a test; run by {@code bench/run --only split}.
 *
 * <p>Usage: {@code SplitStartBench <pairs> <busybox image archive> <image name>}, with {@code bench.base}
 * and {@code bench.state} as {@link RunBench}. The second JVM runs this class with {@code child <root>
 * <state> <image>} and takes {@code GO <round>} / {@code CLEAN} lines on stdin.
 */
public final class SplitStartBench {
    private static final int CONCURRENT = 20;
    private static final String NS = "bench-split";

    private SplitStartBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("child")) {
            child(Path.of(args[1]), Path.of(args[2]), args[3]);
            return;
        }
        int pairs = Integer.parseInt(args[0]);
        Path archive = Path.of(args[1]);
        String image = args[2];
        Path base = Files.createTempDirectory(Path.of(System.getProperty("bench.base", "/var/tmp")), "berth-split-");
        Path root = base.resolve("root");
        Path state = Path.of(System.getProperty("bench.state", base.resolve("state").toString()));
        try (Berth berth = Berth.builder().root(root).stateDir(state).build()) {
            Namespace ns = berth.namespace(NS);
            ns.importImage(archive);
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                    SplitStartBench.class.getName(), "child", root.toString(), state.toString(), image)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            PrintStream toChild = new PrintStream(child.getOutputStream(), true, StandardCharsets.UTF_8);
            BufferedReader fromChild = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
            expect(fromChild, "READY");
            ExecutorService pool = Executors.newFixedThreadPool(CONCURRENT);
            try {
                for (int round = 0; round <= pairs; round++) {
                    String tag = round == 0 ? "warm" : "r" + round;
                    double one = startAll(ns, image, pool, "one-" + tag, CONCURRENT);
                    double two = split(ns, image, pool, "two-" + tag, toChild, fromChild);
                    if (round > 0) {
                        System.out.printf("BENCH start-20-split one %.4f%n", one);
                        System.out.printf("BENCH start-20-split two %.4f%n", two);
                    } else {
                        System.out.printf("warm-up: one %.3f s, two %.3f s%n", one, two);
                    }
                }
            } finally {
                pool.shutdownNow();
                toChild.println("EXIT");
                child.waitFor();
            }
        }
        TestFiles.deleteTree(base);
    }

    /** 10 here and 10 in the child, released together; the wall time until both halves have started. */
    private static double split(Namespace ns, String image, ExecutorService pool, String round, PrintStream toChild,
                                BufferedReader fromChild) throws Exception {
        long t0 = System.nanoTime();
        toChild.println("GO " + round);
        List<Task> mine = start(ns, image, pool, round + "-a", CONCURRENT / 2);
        expect(fromChild, "STARTED");
        double secs = (System.nanoTime() - t0) / 1e9;
        remove(ns, pool, mine);
        toChild.println("CLEAN");
        expect(fromChild, "CLEANED");
        return secs;
    }

    private static double startAll(Namespace ns, String image, ExecutorService pool, String round, int n)
            throws Exception {
        long t0 = System.nanoTime();
        List<Task> tasks = start(ns, image, pool, round, n);
        double secs = (System.nanoTime() - t0) / 1e9;
        remove(ns, pool, tasks);
        return secs;
    }

    private static List<Task> start(Namespace ns, String image, ExecutorService pool, String round, int n)
            throws Exception {
        List<Callable<Task>> starts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = "s-" + round + "-" + i;
            starts.add(() -> ns.run(image, RunOptions.builder().id(id).args("/bin/sleep", "600").build()));
        }
        List<Task> tasks = new ArrayList<>();
        for (Future<Task> f : pool.invokeAll(starts)) {
            tasks.add(f.get());
        }
        return tasks;
    }

    private static void remove(Namespace ns, ExecutorService pool, List<Task> tasks) throws Exception {
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

    private static void child(Path root, Path state, String image) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENT / 2);
        try (Berth berth = Berth.builder().root(root).stateDir(state).build()) {
            Namespace ns = berth.namespace(NS);
            startAll(ns, image, pool, "child-warm", 2); // loads the classes a start needs
            System.out.println("READY");
            System.out.flush();
            List<Task> tasks = List.of();
            String line;
            while ((line = in.readLine()) != null && !line.equals("EXIT")) {
                if (line.startsWith("GO ")) {
                    tasks = start(ns, image, pool, line.substring(3) + "-b", CONCURRENT / 2);
                    System.out.println("STARTED");
                } else if (line.equals("CLEAN")) {
                    remove(ns, pool, tasks);
                    tasks = List.of();
                    System.out.println("CLEANED");
                }
                System.out.flush();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void expect(BufferedReader in, String what) throws Exception {
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals(what)) {
                return;
            }
        }
        throw new IllegalStateException("the second JVM ended before " + what);
    }
}
