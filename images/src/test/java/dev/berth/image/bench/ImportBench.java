package dev.berth.image.bench;

import dev.berth.api.image.Image;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.content.LocalContentStore;
import dev.berth.image.ImageService;
import dev.berth.image.UnpackResult;
import dev.berth.snapshot.Snapshotters;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

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
            deleteTree(base);
            return;
        }
        Containerd ctd = Containerd.start(base.resolve("ctd"));
        try {
            for (Path archive : archives) {
                String workload = archive.getFileName().toString().contains("docker") ? "import-docker" : "import-oci";
                System.out.printf("%n== %s (%d MB)%n", archive.getFileName(), Files.size(archive) >> 20);
                System.out.printf("warm-up: berth %.2f s, containerd %.2f s%n", berth(archive, base), ctd.importOnce(archive));
                List<Double> b = new ArrayList<>();
                List<Double> c = new ArrayList<>();
                for (int i = 0; i < pairs; i++) {
                    b.add(berth(archive, base));
                    c.add(ctd.importOnce(archive));
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
            ctd.stop();
            deleteTree(base);
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
        deleteTree(dir);
        return seconds;
    }

    static void sync() throws Exception {
        new ProcessBuilder("sync").inheritIO().start().waitFor();
    }

    static double median(List<Double> v) {
        List<Double> s = v.stream().sorted().toList();
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    static double max(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** A private containerd 1.6 and the ctr commands run against it. */
    static final class Containerd {
        private final Process process;
        private final String socket;

        private Containerd(Process process, String socket) {
            this.process = process;
            this.socket = socket;
        }

        static Containerd start(Path dir) throws Exception {
            String shared = System.getProperty("bench.containerd"); // bench/run's one containerd for every workload
            if (shared != null) {
                return new Containerd(null, shared);
            }
            Files.createDirectories(dir);
            String socket = dir.resolve("c.sock").toString();
            String config = """
                    version = 2
                    root = "%s"
                    state = "%s"
                    disabled_plugins = ["io.containerd.grpc.v1.cri"]
                    [grpc]
                      address = "%s"
                    [ttrpc]
                      address = "%s.ttrpc"
                    [debug]
                      address = ""
                    [metrics]
                      address = ""
                    """.formatted(dir.resolve("root"), dir.resolve("state"), socket, socket);
            Path cfg = dir.resolve("config.toml");
            Files.writeString(cfg, config);
            Process p = new ProcessBuilder("containerd", "--config", cfg.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("containerd.log").toFile()).start();
            Containerd c = new Containerd(p, socket);
            for (int i = 0; i < 100; i++) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("containerd exited: " + Files.readString(dir.resolve("containerd.log")));
                }
                if (Files.exists(Path.of(socket)) && c.ctr("version").startsWith("Client")) {
                    System.out.println("containerd pid " + p.pid() + " at " + socket);
                    return c;
                }
                Thread.sleep(100);
            }
            p.destroyForcibly();
            throw new IllegalStateException("containerd did not start");
        }

        double importOnce(Path archive) throws Exception {
            sync();
            long t0 = System.nanoTime();
            ctr("-n", "bench", "images", "import", archive.toString());
            double seconds = (System.nanoTime() - t0) / 1e9;
            clean();
            return seconds;
        }

        private void clean() throws Exception {
            String images = ctr("-n", "bench", "images", "ls", "-q").trim();
            if (!images.isEmpty()) {
                List<String> cmd = new ArrayList<>(List.of("-n", "bench", "images", "rm", "--sync"));
                cmd.addAll(Arrays.asList(images.split("\\s+")));
                ctr(cmd.toArray(String[]::new));
            }
            String snapshots = ctr("-n", "bench", "snapshots", "ls").trim();
            String content = ctr("-n", "bench", "content", "ls", "-q").trim();
            if (snapshots.lines().count() > 1 || !content.isEmpty()) {
                throw new IllegalStateException("containerd not empty after image removal:\n" + snapshots + "\n" + content);
            }
        }

        String ctr(String... args) throws Exception {
            List<String> cmd = new ArrayList<>(List.of("ctr", "-a", socket));
            cmd.addAll(Arrays.asList(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        }

        void stop() throws Exception {
            if (process == null) {
                return; // shared: its owner stops it
            }
            process.destroy(); // SIGTERM to this PID only
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
        }
    }
}
