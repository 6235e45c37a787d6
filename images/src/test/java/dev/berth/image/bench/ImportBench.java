package dev.berth.image.bench;

import static dev.berth.testing.BenchStats.max;
import static dev.berth.testing.BenchStats.median;
import static dev.berth.testing.BenchStats.min;
import static dev.berth.testing.BenchStats.sync;

import dev.berth.api.image.Image;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.content.LocalContentStore;
import dev.berth.image.ImageService;
import dev.berth.image.UnpackResult;
import dev.berth.snapshot.Snapshotters;
import dev.berth.testing.PrivateContainerd;
import dev.berth.testing.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Times Berth's import + overlay unpack of an image archive in this JVM against {@code ctr images import}
 * of the same file into a private containerd (own root, state and socket under a temp dir, CRI plugin
 * disabled, stopped by PID at the end). Rounds alternate Berth, containerd, Berth, ... after one warm-up
 * round of each; both sides start every round empty (Berth: fresh content store and snapshotter;
 * containerd: image removed with {@code --sync} and content/snapshots checked empty). Run on demand by
 * {@code bench/import.sh}; not a test.
 *
 * <p>Usage: {@code ImportBench <pairs> <archive>...}; {@code -Dbench.base=DIR} puts the work directories
 * under DIR instead of /var/tmp (e.g. a tmpfs: on an ext4 without a journal, inode allocation right after
 * deleting a large tree scans the recently freed inodes one by one, and that dominates both sides).
 */
public final class ImportBench {
    private ImportBench() {
    }

    public static void main(String[] args) throws Exception {
        int pairs = Integer.parseInt(args[0]);
        List<Path> archives = Arrays.stream(args).skip(1).map(Path::of).toList();
        Path base = Files.createTempDirectory(Path.of(System.getProperty("bench.base", "/var/tmp")), "berth-bench-");
        if (pairs == 0) { // profiling aid: Berth only, once per archive
            for (Path archive : archives) {
                System.out.printf("%s: berth %.3f s%n", archive.getFileName(), berth(archive, base));
            }
            TestFiles.deleteTree(base);
            return;
        }
        PrivateContainerd ctd = PrivateContainerd.start(base.resolve("ctd"));
        try {
            for (Path archive : archives) {
                String workload = archive.getFileName().toString().contains("docker") ? "import-docker" : "import-oci";
                System.out.printf("%n== %s (%d MB)%n", archive.getFileName(), Files.size(archive) >> 20);
                System.out.printf("warm-up: berth %.2f s, containerd %.2f s%n", berth(archive, base), importOnce(ctd, archive));
                List<Double> b = new ArrayList<>();
                List<Double> c = new ArrayList<>();
                for (int i = 0; i < pairs; i++) {
                    b.add(berth(archive, base));
                    c.add(importOnce(ctd, archive));
                    System.out.printf("pair %d: berth %.3f s, containerd %.3f s%n", i + 1, b.get(i), c.get(i));
                    // machine-readable, collected by bench/run
                    System.out.printf("BENCH %s berth %.4f%nBENCH %s containerd %.4f%n", workload, b.get(i), workload, c.get(i));
                }
                double mb = median(b);
                double mc = median(c);
                System.out.printf("berth      median %.3f s (min %.3f, max %.3f)%n", mb, min(b), max(b));
                System.out.printf("containerd median %.3f s (min %.3f, max %.3f)%n", mc, min(c), max(c));
                System.out.printf("ratio berth/containerd = %.2f (target <= 0.70)%n", mb / mc);
            }
        } finally {
            ctd.close();
            TestFiles.deleteTree(base);
        }
    }

    static double berth(Path archive, Path base) throws Exception {
        Path dir = Files.createTempDirectory(base, "berth-");
        sync();
        long t0 = System.nanoTime();
        double seconds;
        try (LocalContentStore store = LocalContentStore.open(dir.resolve("content"));
             Snapshotter sn = Snapshotters.overlay(dir.resolve("snapshots"));
             ImageService images = ImageService.builder(store).snapshotter(sn).build()) {
            List<Image> imported = images.importArchive(archive);
            long t1 = System.nanoTime();
            UnpackResult r = images.unpack(imported.get(0).name());
            seconds = (System.nanoTime() - t0) / 1e9;
            if (Boolean.getBoolean("bench.verbose")) {
                System.out.printf("  berth import %.3f s, unpack %.3f s%n", (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
            }
            if (r.applied() != r.chainIds().size()) {
                throw new IllegalStateException("expected every layer applied: " + r);
            }
        }
        TestFiles.deleteTree(dir);
        return seconds;
    }

    /** {@code ctr images import} of {@code archive} into namespace bench, then removal (not timed). */
    static double importOnce(PrivateContainerd ctd, Path archive) throws Exception {
        sync();
        long t0 = System.nanoTime();
        ctd.ctr("-n", "bench", "images", "import", archive.toString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        ctd.removeAllImages("bench");
        return seconds;
    }
}
