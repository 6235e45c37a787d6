package dev.berth.bench.tc;

import com.sun.management.OperatingSystemMXBean;
import dev.berth.junit.BerthContainer;
import dev.berth.junit.ImageSource;
import dev.berth.junit.internal.ImageResolver;
import dev.berth.junit.internal.SharedBerth;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a fresh JVM's first junit container spends its time (issue 18, workload (b)): the JVM start, the
 * container object (the extension's classes), the shared Berth's opening, the image's resolution and the
 * start until the listening wait passes, each with its wall time, the test thread's CPU time and the whole
 * process's CPU time since the JVM started (CPU times say more than wall times on a loaded machine); at
 * ready, the CPU time of each live thread, the JIT's and the GC's time. Unless {@code -Dsample=false}, a
 * thread samples the test thread's stack every 2 ms and prints, per phase, the most frequent innermost frame
 * with the three innermost Berth frames ({@code [cl]}: a class was being loaded). {@code -Dn=<count>} runs
 * that many containers (the later ones are warm). Same system properties as {@link FirstContainer} (junit
 * side). A diagnostic, not part of {@code bench/run}: {@code FirstContainerTimeline}.
 */
public final class FirstContainerTimeline {
    private static final Map<String, Integer> SAMPLES = new HashMap<>();
    private static long jvmStart;

    private FirstContainerTimeline() {
    }

    public static void main(String[] args) {
        jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
        Thread test = Thread.currentThread();
        Thread sampler = new Thread(() -> {
            while (true) {
                String key = key(test.getStackTrace());
                synchronized (SAMPLES) {
                    SAMPLES.merge(key, 1, Integer::sum);
                }
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "timeline-sampler");
        sampler.setDaemon(true);
        if (!"false".equals(System.getProperty("sample"))) {
            sampler.start();
        }
        mark("main");
        System.setProperty("berth.junit.root", System.getProperty("bench.root"));
        System.setProperty("berth.junit.state", System.getProperty("bench.state"));
        System.setProperty("berth.junit.namespace", "bench-tc");
        ImageSource image = ImageSource.archive(Path.of(System.getProperty("bench.busyboxArchive")),
                System.getProperty("bench.busybox"));
        BerthContainer<?> first = listening(image);
        mark("container-object");
        SharedBerth shared = SharedBerth.get();
        mark("berth-open");
        ImageResolver.resolve(shared.namespace(), image);
        mark("image-resolved");
        first.start();
        mark("READY");
        printThreads();
        first.stop();
        mark("stopped");
        for (int i = 2; i <= Integer.getInteger("n", 1); i++) {
            BerthContainer<?> c = listening(image);
            c.start();
            mark("READY-" + i);
            c.stop();
            mark("stopped-" + i);
        }
        System.exit(0);
    }

    private static BerthContainer<?> listening(ImageSource image) {
        return new BerthContainer<>(image).withCommand("httpd", "-f", "-p", "8080").withExposedPorts(8080);
    }

    private static void mark(String what) {
        synchronized (SAMPLES) {
            SAMPLES.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(14)
                    .forEach(e -> System.out.printf("     %4d %s%n", e.getValue(), e.getKey()));
            SAMPLES.clear();
        }
        long testCpu = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() / 1_000_000;
        long processCpu = ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime()
                / 1_000_000;
        System.out.printf("T %6d ms wall, test thread CPU %d ms, process CPU %d ms: %s%n",
                System.currentTimeMillis() - jvmStart, testCpu, processCpu, what);
        System.out.flush();
    }

    private static void printThreads() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Map<String, Long> cpuByName = new TreeMap<>();
        for (long id : threads.getAllThreadIds()) {
            ThreadInfo info = threads.getThreadInfo(id);
            long cpu = threads.getThreadCpuTime(id);
            if (info != null && cpu > 0) {
                cpuByName.merge(info.getThreadName().replaceAll("-?\\d+$", ""), cpu / 1_000_000, Long::sum);
            }
        }
        System.out.println("THREADS CPU ms " + cpuByName);
        System.out.println("JIT " + ManagementFactory.getCompilationMXBean().getTotalCompilationTime() + " ms, GC "
                + ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(g -> g.getCollectionTime()).sum()
                + " ms, classes loaded " + ManagementFactory.getClassLoadingMXBean().getTotalLoadedClassCount());
    }

    private static String key(StackTraceElement[] stack) {
        StringBuilder frames = new StringBuilder();
        int berthFrames = 0;
        boolean classLoad = false;
        for (StackTraceElement e : stack) {
            String c = e.getClassName();
            if (c.equals("java.lang.ClassLoader") || c.startsWith("jdk.internal.loader")) {
                classLoad = true;
            }
            if (c.startsWith("dev.berth.") && !c.startsWith("dev.berth.bench.")) {
                frames.append(c.substring(c.lastIndexOf('.') + 1)).append('.').append(e.getMethodName()).append(':')
                        .append(e.getLineNumber()).append(" < ");
                if (++berthFrames == 3) {
                    break;
                }
            }
        }
        return (classLoad ? "[cl] " : "") + (stack.length > 0 ? stack[0].getMethodName() + " @ " : "") + frames;
    }
}
