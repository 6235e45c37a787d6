package dev.berth.bench.tc;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Where a side's first containers spend their time: a fresh JVM runs {@code count} listening containers of
 * one side while a sampler thread reads the main thread's stack every millisecond. Prints the time from the
 * JVM's start to {@code main}, each container's time to ready, and per container the samples grouped by the
 * innermost {@code dev.berth} frame (with {@code [classload]} when a class was being loaded below it). Not a
 * test and not part of {@code bench/run}: a diagnostic, {@code PhaseProbe <side> <count>}.
 */
public final class PhaseProbe {
    private PhaseProbe() {
    }

    public static void main(String[] args) throws Exception {
        long mainAt = System.currentTimeMillis();
        long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
        System.out.printf("PHASE jvm-start-to-main %d ms (class path %d entries)%n", mainAt - jvmStart,
                System.getProperty("java.class.path").split(":").length);
        int count = Integer.parseInt(args[1]);
        Thread main = Thread.currentThread();
        Map<String, Integer> samples = new HashMap<>();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (running.get()) {
                StackTraceElement[] st = main.getStackTrace();
                String key = classify(st);
                synchronized (samples) {
                    samples.merge(key, 1, Integer::sum);
                }
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "probe");
        sampler.setDaemon(true);
        sampler.start();
        long t0 = System.nanoTime();
        Side side = Side.open(args[0]);
        print("open " + args[0], t0, samples);
        for (int i = 0; i < count; i++) {
            long t1 = System.nanoTime();
            Side.Running r = side.listening();
            print("container " + (i + 1), t1, samples);
            long t2 = System.nanoTime();
            r.close();
            print("stop " + (i + 1), t2, samples);
        }
        running.set(false);
        side.close();
        System.exit(0);
    }

    private static void print(String what, long since, Map<String, Integer> samples) {
        System.out.printf("PHASE %s %.1f ms%n", what, (System.nanoTime() - since) / 1e6);
        synchronized (samples) {
            samples.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(Integer.getInteger("probe.top", 25))
                    .forEach(e -> System.out.printf("   %5d  %s%n", e.getValue(), e.getKey()));
            samples.clear();
        }
    }

    private static String classify(StackTraceElement[] st) {
        boolean classLoad = false;
        String innermostOther = st.length > 0 ? st[0].getClassName() + "." + st[0].getMethodName() : "?";
        for (StackTraceElement e : st) {
            String c = e.getClassName();
            if (c.equals("java.lang.ClassLoader") || c.startsWith("jdk.internal.loader")) {
                classLoad = true;
            }
            if (c.startsWith("dev.berth.") && !c.startsWith("dev.berth.bench.")) {
                return c.substring(c.lastIndexOf('.', c.lastIndexOf('.') - 1) + 1) + "." + e.getMethodName() + ":"
                        + e.getLineNumber() + (classLoad ? " [classload]" : "") + " <" + innermostOther + ">";
            }
        }
        return "(outside berth) " + innermostOther + (classLoad ? " [classload]" : "");
    }
}
