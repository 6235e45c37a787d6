package dev.berth.snapshot.archive.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.berth.snapshot.archive.ApplyResult;
import dev.berth.snapshot.archive.ApplyTarget;
import dev.berth.snapshot.archive.LayerApplier;

/**
 * Layer-apply benchmark (run by {@code bench/apply.sh}, not a test): alternating rounds of Berth
 * (naive into an empty directory, overlay into an empty upper directory) against {@code tar -xf} of
 * the same uncompressed tar, and Berth on the gzip layer against {@code gzip -dc | tar -x}.
 *
 * <p>Usage: {@code ApplyBench <layer.tar> <layer.tar.gz> <rounds> <workdir>}
 */
public final class ApplyBench {
    private ApplyBench() {
    }

    public static void main(String[] args) throws Exception {
        Path tar = Path.of(args[0]);
        Path tgz = Path.of(args[1]);
        int rounds = Integer.parseInt(args[2]);
        Path work = Path.of(args[3]);
        Files.createDirectories(work);
        LayerApplier applier = LayerApplier.create();

        Map<String, List<Long>> times = new LinkedHashMap<>();
        String[] variants = {"berth naive (tar)", "berth overlay (tar)", "tar -xf", "berth naive (gzip)",
            "berth overlay (gzip)", "gzip -dc | tar -x"};
        for (String v : variants) {
            times.put(v, new ArrayList<>());
        }
        long cold = -1;
        ApplyResult sample = null;
        for (int round = -1; round < rounds; round++) { // round -1 warms up the JIT; its first apply is the cold number
            for (String v : variants) {
                Path dir = work.resolve("r" + round + "-" + v.replaceAll("[^a-z]", ""));
                Files.createDirectories(dir);
                clean();
                long t0 = System.nanoTime();
                switch (v) {
                    case "berth naive (tar)" -> sample = apply(applier, tar, ApplyTarget.naive(dir));
                    case "berth overlay (tar)" -> apply(applier, tar, ApplyTarget.overlay(dir, List.of()));
                    case "tar -xf" -> sh("tar -xf '" + tar + "' -C '" + dir + "'");
                    case "berth naive (gzip)" -> apply(applier, tgz, ApplyTarget.naive(dir));
                    case "berth overlay (gzip)" -> apply(applier, tgz, ApplyTarget.overlay(dir, List.of()));
                    case "gzip -dc | tar -x" -> sh("gzip -dc '" + tgz + "' | tar -x -C '" + dir + "'");
                    default -> throw new IllegalStateException(v);
                }
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                if (round < 0 && cold < 0) {
                    cold = ms;
                }
                if (round >= 0) {
                    times.get(v).add(ms);
                }
                sh("rm -rf '" + dir + "'");
            }
        }
        System.out.printf("layer: %s (%d MB uncompressed, %d entries, diffID %s), gzip %d MB%n", tar,
                sample.uncompressedSize() >> 20, sample.entries(), sample.diffId().shortForm(),
                Files.size(tgz) >> 20);
        System.out.printf("first (cold JVM) Berth naive apply: %d ms; then %d alternating rounds:%n", cold, rounds);
        for (Map.Entry<String, List<Long>> e : times.entrySet()) {
            System.out.printf("  %-22s median %5d ms  min %5d ms  all %s%n", e.getKey(), median(e.getValue()),
                    Collections.min(e.getValue()), e.getValue());
        }
        double tarMs = median(times.get("tar -xf"));
        double gzMs = median(times.get("gzip -dc | tar -x"));
        System.out.printf("ratio berth naive / tar -xf        = %.2f (target <= 1.30)%n",
                median(times.get("berth naive (tar)")) / tarMs);
        System.out.printf("ratio berth overlay / tar -xf      = %.2f (target <= 1.30)%n",
                median(times.get("berth overlay (tar)")) / tarMs);
        System.out.printf("ratio berth naive gzip / gzip|tar  = %.2f (target <= 1.10)%n",
                median(times.get("berth naive (gzip)")) / gzMs);
        System.out.printf("ratio berth overlay gzip / gzip|tar= %.2f (target <= 1.10)%n",
                median(times.get("berth overlay (gzip)")) / gzMs);
    }

    private static ApplyResult apply(LayerApplier applier, Path layer, ApplyTarget target) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(layer), 1 << 16)) {
            return applier.apply(in, target);
        }
    }

    /** Flushes dirty pages of the previous round so rounds do not pay for each other's writeback. */
    private static void clean() throws IOException, InterruptedException {
        sh("sync");
    }

    private static long median(List<Long> l) {
        List<Long> s = new ArrayList<>(l);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }

    private static void sh(String cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", cmd).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException(cmd + " failed with " + p.exitValue());
        }
    }
}
