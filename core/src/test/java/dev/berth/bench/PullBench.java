package dev.berth.bench;

import static dev.berth.testing.BenchStats.max;
import static dev.berth.testing.BenchStats.median;
import static dev.berth.testing.BenchStats.min;
import static dev.berth.testing.BenchStats.sync;

import dev.berth.SnapshotUnpacker;
import dev.berth.api.Descriptor;
import dev.berth.api.image.Image;
import dev.berth.api.image.LayerGate;
import dev.berth.api.snapshot.Kind;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.content.LocalContentStore;
import dev.berth.image.ImageService;
import dev.berth.image.InMemoryImageStore;
import dev.berth.registry.Credentials;
import dev.berth.registry.ProgressListener;
import dev.berth.registry.PullOptions;
import dev.berth.registry.PullUnpacker;
import dev.berth.registry.PushOptions;
import dev.berth.registry.RegistryClient;
import dev.berth.snapshot.Snapshotters;
import dev.berth.testing.PrivateContainerd;
import dev.berth.testing.TestFiles;
import dev.berth.testing.TestRegistry;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Pull + unpack from a private docker-registry on 127.0.0.1: Berth in this JVM (fresh content store and
 * overlay snapshotter each round) against {@code ctr images pull --plain-http} into a fresh namespace of
 * a private containerd 1.6 (own root/state/socket, CRI disabled, stopped by PID), alternating after one
 * warm-up round each. Run on demand by {@code bench/pull.sh}; not a test.
 *
 * <p>Usage: {@code PullBench <pairs> <oci-archive>}; {@code -Dbench.base=DIR} puts the work directories
 * (and a containerd this class starts itself) under DIR instead of /var/tmp.
 */
public final class PullBench {
    private PullBench() {
    }

    public static void main(String[] args) throws Exception {
        int pairs = Integer.parseInt(args[0]);
        Path archive = Path.of(args[1]);
        Path base = Files.createTempDirectory(Path.of(System.getProperty("bench.base", "/var/tmp")),
                "berth-pull-bench-");
        String sharedRegistry = System.getProperty("bench.registry"); // host:port of bench/run's registry
        TestRegistry registry = sharedRegistry != null ? null : TestRegistry.create(base.resolve("registry")).start();
        PrivateContainerd ctd = null;
        try {
            String host = registry != null ? registry.host() : sharedRegistry;
            String ref = host + "/bench/debian:bookworm";
            seed(archive, base.resolve("seed"), ref);
            System.out.printf("registry %s, image %s%n", host, ref);
            if (pairs == 0) { // profiling aid: Berth only
                for (int i = 0; i < 3; i++) {
                    System.out.printf("berth %.3f s%n", berth(ref, base));
                }
                return;
            }
            ctd = PrivateContainerd.start(base.resolve("ctd"));
            System.out.printf("warm-up: berth %.2f s, containerd %.2f s%n", berth(ref, base), pullOnce(ctd, ref, 0));
            if (!AB_SWITCH.isEmpty()) {
                System.out.printf("warm-up: berth with -D%s=false %.2f s%n", AB_SWITCH, berthSwitchedOff(ref, base));
            }
            List<Double> b = new ArrayList<>();
            List<Double> c = new ArrayList<>();
            for (int i = 0; i < pairs; i++) {
                b.add(berth(ref, base));
                c.add(pullOnce(ctd, ref, i + 1));
                System.out.printf("pair %d: berth %.3f s, containerd %.3f s%n", i + 1, b.get(i), c.get(i));
                // machine-readable, collected by bench/run
                System.out.printf("BENCH pull berth %.4f%nBENCH pull containerd %.4f%n", b.get(i), c.get(i));
                if (!AB_SWITCH.isEmpty()) {
                    double off = berthSwitchedOff(ref, base);
                    System.out.printf("pair %d: berth with -D%s=false %.3f s%n", i + 1, AB_SWITCH, off);
                    // the A/B row, against the same containerd figure (as ImportBench's -serial rows)
                    System.out.printf("BENCH pull-ab berth %.4f%nBENCH pull-ab containerd %.4f%n", off, c.get(i));
                }
            }
            double mb = median(b);
            double mc = median(c);
            System.out.printf("berth      median %.3f s (min %.3f, max %.3f)%n", mb, min(b), max(b));
            System.out.printf("containerd median %.3f s (min %.3f, max %.3f)%n", mc, min(c), max(c));
            System.out.printf("ratio berth/containerd = %.2f (target <= 0.80)%n", mb / mc);
        } finally {
            if (ctd != null) {
                ctd.close();
            }
            if (registry != null) {
                registry.close();
            }
            TestFiles.deleteTree(base);
        }
    }

    private static void seed(Path archive, Path dir, String ref) throws Exception {
        try (LocalContentStore store = LocalContentStore.open(dir);
             ImageService images = ImageService.builder(store).imageStore(new InMemoryImageStore()).build();
             RegistryClient client = RegistryClient.builder(store).credentials(Credentials.none()).build()) {
            List<Image> imported = images.importArchive(archive);
            client.push(ref, imported.get(0).target(), PushOptions.defaults());
        }
    }

    /**
     * A system property that switches a change off (by default {@code berth.pull.streamUnpack}; another with
     * {@code -Dbench.abSwitch=NAME}, none with {@code -Dbench.abSwitch=}): each round then also pulls with it
     * set to false, so the two Berth rows (pull, pull-ab) are measured interleaved in one run.
     */
    private static final String AB_SWITCH = System.getProperty("bench.abSwitch", "berth.pull.streamUnpack");

    static double berthSwitchedOff(String ref, Path base) throws Exception {
        String before = System.getProperty(AB_SWITCH);
        System.setProperty(AB_SWITCH, "false");
        try {
            return berth(ref, base);
        } finally {
            if (before == null) {
                System.clearProperty(AB_SWITCH);
            } else {
                System.setProperty(AB_SWITCH, before);
            }
        }
    }

    static double berth(String ref, Path base) throws Exception {
        Path dir = Files.createTempDirectory(base, "berth-");
        sync();
        long t0 = System.nanoTime();
        double seconds;
        try (LocalContentStore store = LocalContentStore.open(dir.resolve("content"));
             Snapshotter sn = Snapshotters.overlay(dir.resolve("snapshots"));
             ImageService images = ImageService.builder(store).imageStore(new InMemoryImageStore()).snapshotter(sn)
                     .build();
             RegistryClient client = RegistryClient.builder(store).credentials(Credentials.none()).build()) {
            long[] fetchedAt = new long[1];
            Steps steps = new Steps(t0);
            PullUnpacker unpack = new SnapshotUnpacker(images, sn);
            client.pull(ref, PullOptions.builder().progress(steps).unpacker((name, manifest, layers, layerDone) -> {
                fetchedAt[0] = System.nanoTime();
                unpack.unpack(name, manifest, steps.timing(layers), layerDone);
            }).build());
            seconds = (System.nanoTime() - t0) / 1e9;
            if (Boolean.getBoolean("bench.verbose")) { // layers download while the unpack runs
                System.out.printf("  berth manifest and config %.3f s, then layers fetched and unpacked %.3f s%n",
                        (fetchedAt[0] - t0) / 1e9, (System.nanoTime() - fetchedAt[0]) / 1e9);
                steps.print(sn, t0);
            }
        }
        TestFiles.deleteTree(dir);
        return seconds;
    }

    /** {@code ctr images pull --plain-http} into a fresh namespace, then removal (not timed). */
    static double pullOnce(PrivateContainerd ctd, String ref, int round) throws Exception {
        String ns = "bench-pull-" + round;
        sync();
        long t0 = System.nanoTime();
        ctd.ctr("-n", ns, "images", "pull", "--plain-http", ref);
        double seconds = (System.nanoTime() - t0) / 1e9;
        ctd.removeAllImages(ns);
        return seconds;
    }

    /**
     * The step breakdown of one Berth pull ({@code -Dbench.verbose=true}): per blob the download start and
     * end and the commit (verified), per layer when the unpack could start reading it (the stream handed
     * over, or the blob awaited) and when its snapshot was committed; milliseconds since the pull began.
     */
    private static final class Steps implements ProgressListener {
        private final long t0;
        private final Map<String, Long> at = new ConcurrentHashMap<>();

        Steps(long t0) {
            this.t0 = t0;
        }

        private void mark(String what, Descriptor blob) {
            at.putIfAbsent(blob.digest().hex().substring(0, 8) + " " + what, System.nanoTime());
        }

        @Override
        public void blobStarted(Descriptor blob, long resumedAt) {
            mark("download start", blob);
        }

        @Override
        public void blobDone(Descriptor blob) {
            mark("download end", blob);
        }

        @Override
        public void blobVerified(Descriptor blob) {
            mark("verified+committed", blob);
        }

        LayerGate timing(LayerGate gate) {
            return new LayerGate() {
                @Override
                public void await(Descriptor layer) throws InterruptedException {
                    gate.await(layer);
                    mark("apply may read (blob stored)", layer);
                }

                @Override
                public InputStream stream(Descriptor layer) throws InterruptedException {
                    InputStream in = gate.stream(layer);
                    if (in != null) {
                        mark("apply may read (streamed)", layer);
                    }
                    return in;
                }
            };
        }

        void print(Snapshotter sn, long pullStart) {
            long wall = System.currentTimeMillis() - (System.nanoTime() - pullStart) / 1_000_000;
            Map<String, Long> all = new java.util.TreeMap<>();
            at.forEach((k, v) -> all.put(k, (v - t0) / 1_000_000));
            for (SnapshotInfo info : sn.list()) {
                if (info.kind() == Kind.COMMITTED) {
                    all.put("snapshot " + info.name().substring(7, 15) + " committed",
                            info.created().toEpochMilli() - wall);
                }
            }
            all.entrySet().stream().sorted(Map.Entry.comparingByValue(Comparator.naturalOrder()))
                    .forEach(e -> System.out.printf("    %6d ms  %s%n", e.getValue(), e.getKey()));
        }
    }
}
