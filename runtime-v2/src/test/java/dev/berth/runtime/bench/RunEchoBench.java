package dev.berth.runtime.bench;

import dev.berth.api.task.RunResult;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskRuntime;
import dev.berth.runtime.TaskRuntimes;
import dev.berth.runtime.testing.BusyboxRootfs;
import dev.berth.runtime.testing.RuncSpec;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * End-to-end cost of a busybox {@code echo hi} through the real shim and runc, in one JVM: shim start,
 * Create, Start, Wait, Delete (shim shutdown, bundle removal). Run on demand with bench/run-echo.sh, never
 * in the test run.
 *
 * <p>Arguments: {@code [iterations=30] [concurrent=20] [rootfs dir (default: a fresh busybox rootfs)]}.
 */
public final class RunEchoBench {
    private RunEchoBench() {
    }

    public static void main(String[] args) throws Exception {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        int concurrent = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        Path work = Files.createTempDirectory("berth-bench");
        Path rootfs = args.length > 2 ? Path.of(args[2])
                : BusyboxRootfs.populate(Files.createDirectories(work.resolve("rootfs")));
        try (TaskRuntime runtime = TaskRuntimes.builder().stateDir(work.resolve("state")).build()) {
            for (int i = 0; i < 3; i++) {
                runEcho(runtime, rootfs, "warmup-" + i);
            }
            List<Double> millis = new ArrayList<>();
            for (int i = 0; i < iterations; i++) {
                long t0 = System.nanoTime();
                runEcho(runtime, rootfs, "seq-" + i);
                millis.add((System.nanoTime() - t0) / 1e6);
            }
            Collections.sort(millis);
            System.out.printf("berth sequential echo x%d: median %.1f ms, min %.1f ms, p90 %.1f ms, max %.1f ms%n",
                    iterations, median(millis), millis.get(0), millis.get((int) Math.ceil(iterations * 0.9) - 1),
                    millis.get(iterations - 1));

            ExecutorService pool = Executors.newFixedThreadPool(concurrent);
            try {
                long t0 = System.nanoTime();
                List<Future<?>> runs = new ArrayList<>();
                for (int i = 0; i < concurrent; i++) {
                    String id = "conc-" + i;
                    runs.add(pool.submit(() -> {
                        runEcho(runtime, rootfs, id);
                        return null;
                    }));
                }
                for (Future<?> f : runs) {
                    f.get();
                }
                System.out.printf("berth %d concurrent echo: wall %.1f ms%n", concurrent, (System.nanoTime() - t0) / 1e6);
            } finally {
                pool.shutdownNow();
            }

            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            long before = usedHeapAfterGc(memory);
            List<Task> running = new ArrayList<>();
            for (int i = 0; i < concurrent; i++) {
                Task t = runtime.create(config("sleep-" + i, rootfs, "sleep", "60"));
                t.start();
                running.add(t);
            }
            long during = usedHeapAfterGc(memory);
            System.out.printf("berth heap per running task (%d sleeping): %.1f KiB%n", concurrent,
                    (during - before) / 1024.0 / concurrent);
            for (Task t : running) {
                t.delete(true);
            }
        }
    }

    private static TaskConfig config(String id, Path rootfs, String... args) {
        return TaskConfig.builder(id).namespace("bench").spec(RuncSpec.of(args).root(rootfs.toString()).toJson()).build();
    }

    private static void runEcho(TaskRuntime runtime, Path rootfs, String id) throws InterruptedException {
        RunResult r = runtime.run(config(id, rootfs, "echo", "hi"));
        if (r.exitCode() != 0 || !r.stdout().equals("hi\n")) {
            throw new IllegalStateException("echo failed: " + r);
        }
    }

    private static long usedHeapAfterGc(MemoryMXBean memory) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    private static double median(List<Double> sorted) {
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
