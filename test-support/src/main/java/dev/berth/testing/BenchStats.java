package dev.berth.testing;

import java.io.IOException;
import java.util.List;

/** Small helpers the benchmark mains share: order statistics of timings, and {@code sync(1)}. */
public final class BenchStats {
    private BenchStats() {
    }

    public static double median(List<Double> v) {
        List<Double> s = v.stream().sorted().toList();
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    public static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    public static double max(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    /** Flushes dirty pages so one measurement does not pay for the previous one's writes. */
    public static void sync() throws IOException, InterruptedException {
        new ProcessBuilder("sync").inheritIO().start().waitFor();
    }
}
