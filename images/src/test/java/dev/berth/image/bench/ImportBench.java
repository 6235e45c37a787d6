package dev.berth.image.bench;

import static dev.berth.testing.BenchStats.max;
import static dev.berth.testing.BenchStats.median;
import static dev.berth.testing.BenchStats.min;
import static dev.berth.testing.BenchStats.sync;

import dev.berth.api.image.Image;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.content.LocalContentStore;
import dev.berth.image.ImageService;
import dev.berth.image.ImportOptions;
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
        if (pairs <= 0) { // profiling aid: Berth only, -pairs rounds per archive (at least 1), A and B alternating
            com.sun.management.OperatingSystemMXBean os =
                    (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            for (Path archive : archives) {
                for (int i = 0; i < Math.max(1, -pairs); i++) {
                    for (boolean stream : new boolean[] {i % 2 == 0, i % 2 != 0}) {
                        long cpu0 = os.getProcessCpuTime();
                        double wall = berth(archive, base, stream);
                        System.out.printf("%s: %s %.3f s, process CPU %.3f s%n", archive.getFileName(),
                                stream ? "streamed" : "serial  ", wall, (os.getProcessCpuTime() - cpu0) / 1e9);
                    }
                }
            }
            TestFiles.deleteTree(base);
            return;
        }
        PrivateContainerd ctd = PrivateContainerd.start(base.resolve("ctd"));
        try {
            for (Path archive : archives) {
                String workload = archive.getFileName().toString().contains("docker") ? "import-docker" : "import-oci";
                System.out.printf("%n== %s (%d MB)%n", archive.getFileName(), Files.size(archive) >> 20);
                System.out.printf("warm-up: berth %.2f s, serial %.2f s, containerd %.2f s%n", berth(archive, base, true),
                        berth(archive, base, false), importOnce(ctd, archive));
                List<Double> b = new ArrayList<>();
                List<Double> s = new ArrayList<>();
                List<Double> c = new ArrayList<>();
                for (int i = 0; i < pairs; i++) {
                    // the A/B: layers applied while the archive is stored (default) or after it; order alternates
                    if (i % 2 == 0) {
                        b.add(berth(archive, base, true));
                        s.add(berth(archive, base, false));
                    } else {
                        s.add(berth(archive, base, false));
                        b.add(berth(archive, base, true));
                    }
                    c.add(importOnce(ctd, archive));
                    System.out.printf("pair %d: berth %.3f s (serial %.3f s), containerd %.3f s%n", i + 1, b.get(i), s.get(i),
                            c.get(i));
                    // machine-readable, collected by bench/run
                    System.out.printf("BENCH %s berth %.4f%nBENCH %s containerd %.4f%n", workload, b.get(i), workload, c.get(i));
                    System.out.printf("BENCH %s-serial berth %.4f%nBENCH %s-serial containerd %.4f%n", workload, s.get(i),
                            workload, c.get(i));
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

    /**
     * One import with unpack into a fresh store; {@code stream} = layers applied while the archive is
     * stored (the default), else the archive is stored first and unpacked after it.
     */
    static double berth(Path archive, Path base, boolean stream) throws Exception {
        System.setProperty("berth.import.streamUnpack", Boolean.toString(stream));
        Path dir = Files.createTempDirectory(base, "berth-");
        sync();
        long t0 = System.nanoTime();
        double seconds;
        try (LocalContentStore store = LocalContentStore.open(dir.resolve("content"));
             Snapshotter sn = Snapshotters.overlay(dir.resolve("snapshots"));
             ImageService images = ImageService.builder(store).snapshotter(sn).build()) {
            List<Image> imported = images.importArchive(archive, ImportOptions.defaults().withUnpack());
            seconds = (System.nanoTime() - t0) / 1e9;
            // every layer must be there (nothing left to apply) and nothing else
            UnpackResult r = images.unpack(imported.get(0).name());
            if (r.skipped() != r.chainIds().size() || sn.list().size() != r.chainIds().size()) {
                throw new IllegalStateException("expected exactly the image's layers committed: " + r + ", "
                        + sn.list().size() + " snapshots");
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
