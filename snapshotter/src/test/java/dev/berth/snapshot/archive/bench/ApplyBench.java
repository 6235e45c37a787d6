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
import dev.berth.testing.TestFiles;

/**
 * Layer-apply benchmark (run by {@code bench/apply.sh}, not a test): alternating rounds of Berth
 * (naive into an empty directory, overlay into an empty upper directory) against {@code tar -xf} of
 * the same uncompressed tar, and Berth on the gzip layer against {@code gzip -dc | tar -x}.
 *
 * <p>The first apply of a fresh JVM is reported on its own (cold); then {@code -Dbench.warmup} (default 6)
 * rounds of Berth applies warm the JIT up, as in an embedding process that applies many layers, before
 * the alternating rounds that are compared.
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
        int warmupRounds = Integer.getInteger("bench.warmup", 6);
        Path work = Path.of(args[3]);
        Files.createDirectories(work);
        LayerApplier applier = LayerApplier.create();

        Map<String, List<Long>> times = new LinkedHashMap<>();
        String[] variants = {"berth naive (tar)", "berth overlay (tar)", "tar -xf", "berth naive (gzip)",
            "berth overlay (gzip)", "gzip -dc | tar -x"};
        for (String v : variants) {
            times.put(v, new ArrayList<>());
        }
        // The cold number is the first apply in a fresh JVM. An embedding user (a daemon) applies many
        // layers in one JVM, so the comparison proper runs on a warmed JVM: WARMUP rounds of Berth applies
        // (JIT compilation of the hot paths takes several applies on a loaded 2-core machine) first.
        Path coldDir = work.resolve("cold");
        Files.createDirectories(coldDir);
        clean();
        long t0 = System.nanoTime();
        ApplyResult sample = apply(applier, tar, ApplyTarget.naive(coldDir));
        long cold = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        TestFiles.deleteTree(coldDir);
        List<Long> warmup = new ArrayList<>();
        for (int i = 0; i < warmupRounds; i++) {
            for (Path layer : List.of(tar, tgz)) {
                Path dir = work.resolve("warmup" + i + (layer == tar ? "t" : "z"));
                Files.createDirectories(dir);
                clean();
                long w0 = System.nanoTime();
                apply(applier, layer, i % 2 == 0 ? ApplyTarget.naive(dir) : ApplyTarget.overlay(dir, List.of()));
                warmup.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - w0));
                TestFiles.deleteTree(dir);
            }
        }
        for (int round = 0; round < rounds; round++) {
            for (String v : variants) {
                Path dir = work.resolve("r" + round + "-" + v.replaceAll("[^a-z]", ""));
                Files.createDirectories(dir);
                clean();
                long r0 = System.nanoTime();
                switch (v) {
                    case "berth naive (tar)" -> apply(applier, tar, ApplyTarget.naive(dir));
                    case "berth overlay (tar)" -> apply(applier, tar, ApplyTarget.overlay(dir, List.of()));
                    case "tar -xf" -> sh("tar -xf '" + tar + "' -C '" + dir + "'");
                    case "berth naive (gzip)" -> apply(applier, tgz, ApplyTarget.naive(dir));
                    case "berth overlay (gzip)" -> apply(applier, tgz, ApplyTarget.overlay(dir, List.of()));
                    case "gzip -dc | tar -x" -> sh("gzip -dc '" + tgz + "' | tar -x -C '" + dir + "'");
                    default -> throw new IllegalStateException(v);
                }
                times.get(v).add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - r0));
                TestFiles.deleteTree(dir);
            }
        }
        System.out.printf("layer: %s (%d MB uncompressed, %d entries, diffID %s), gzip %d MB%n", tar,
                sample.uncompressedSize() >> 20, sample.entries(), sample.diffId().shortForm(),
                Files.size(tgz) >> 20);
        System.out.printf("first (cold JVM) Berth naive apply: %d ms; warm-up applies (tar, gzip alternately): %s%n",
                cold, warmup);
        System.out.printf("then %d alternating rounds on the warmed JVM:%n", rounds);
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
