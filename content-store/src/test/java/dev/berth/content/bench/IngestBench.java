package dev.berth.content.bench;

import dev.berth.api.Digest;
import dev.berth.api.content.Writer;
import dev.berth.content.LocalContentStore;
import dev.berth.testing.TestFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Ingest throughput of {@link LocalContentStore} beside the floor measured in the same run on the same
 * file: {@code openssl dgst -sha256 FILE; cp FILE DST; sync DST} (hash it, copy it, fsync the copy), against
 * Berth's writer: one pass that reads, hashes and writes, then commit (fsync, link into blobs/).
 *
 * <p>Rounds alternate which side goes first. Before every measurement dirty pages are synced, the machine
 * idles a few seconds (ext4's journal commit, and the TRIMs of the previous round's deletions on a
 * {@code discard} mount) and, when the process may write {@code /proc/sys/vm/drop_caches}, the page cache is
 * dropped, so both sides read the source from disk once (the floor's {@code cp} then reads it from cache).
 *
 * <pre>
 *   IngestBench [sizeMiB=1024] [rounds=3] [workDir=/var/tmp] [cold|warm]
 * </pre>
 * {@code warm} keeps the page cache (the source is then read from memory by both sides).
 * <pre>
 * </pre>
 * Not a test; run by {@code bench/content-ingest.sh}.
 */
public final class IngestBench {
    private static boolean dropPageCache = true;
    private IngestBench() {
    }

    public static void main(String[] args) throws Exception {
        long size = (args.length > 0 ? Long.parseLong(args[0]) : 1024) << 20;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path base = Path.of(args.length > 2 ? args[2] : "/var/tmp");
        dropPageCache = args.length <= 3 || !args[3].equals("warm");
        Path work = Files.createTempDirectory(base, "berth-ingest-bench-");
        try {
            run(work, size, rounds);
        } finally {
            TestFiles.deleteTree(work);
        }
    }

    private static void run(Path work, long size, int rounds) throws Exception {
        Path source = work.resolve("source.bin");
        System.out.printf("creating %d MiB of random data in %s%n", size >> 20, source);
        createRandomFile(source, size);
        boolean dropping = dropCaches();
        System.out.println(dropping ? "page cache: dropped before every measurement (sync; echo 3 > drop_caches)"
                : "page cache: NOT dropped (warm, or no permission): the source is read from memory");

        try (LocalContentStore store = LocalContentStore.open(work.resolve("store"))) {
            warmUp(store, work);
            List<Double> floor = new ArrayList<>();
            List<Double> berth = new ArrayList<>();
            List<Double> ctr = new ArrayList<>();
            String expected = null;
            // with -Dbench.containerd=<socket> (bench/run), `ctr content ingest` into that containerd is a third side
            String containerd = System.getProperty("bench.containerd");
            int sides = containerd == null ? 2 : 3;
            for (int round = 1; round <= rounds; round++) {
                for (int side = 0; side < sides; side++) {
                    int which = (side + round - 1) % sides; // 0 floor, 1 berth, 2 containerd; rotates the first
                    boolean isFloor = which == 0;
                    settle();
                    if (which == 2) {
                        if (expected == null) {
                            expected = "sha256:" + exec("openssl", "dgst", "-sha256", "-r", source.toString())
                                    .split(" ")[0].strip();
                        }
                        long t0 = System.nanoTime();
                        Process p = new ProcessBuilder("ctr", "-a", containerd, "-n", "bench-ingest", "content", "ingest",
                                "--expected-size", Long.toString(size), "--expected-digest", expected, "bench-" + round)
                                .redirectInput(source.toFile()).redirectErrorStream(true).start();
                        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                        if (p.waitFor() != 0) {
                            throw new IOException("ctr content ingest failed: " + out);
                        }
                        double secs = (System.nanoTime() - t0) / 1e9;
                        ctr.add(secs);
                        exec("ctr", "-a", containerd, "-n", "bench-ingest", "content", "rm", expected);
                        System.out.printf("round %d  ctr content ingest       %6.2f s  %8.1f MB/s%n", round, secs,
                                mbPerSec(size, secs));
                        System.out.printf("BENCH ingest containerd %.4f%n", secs);
                    } else if (isFloor) {
                        long t0 = System.nanoTime();
                        String out = exec("openssl", "dgst", "-sha256", source.toString());
                        exec("cp", source.toString(), work.resolve("copy.bin").toString());
                        // fsync of the copy, as Berth's commit fsyncs the blob: a global sync returns before
                        // a loop-mounted file system's writes reach the disk below it
                        exec("sync", work.resolve("copy.bin").toString());
                        double secs = (System.nanoTime() - t0) / 1e9;
                        floor.add(mbPerSec(size, secs));
                        String hex = out.substring(out.lastIndexOf('=') + 1).strip();
                        expected = "sha256:" + hex;
                        Files.delete(work.resolve("copy.bin"));
                        System.out.printf("round %d  floor (openssl+cp+fsync) %6.2f s  %8.1f MB/s%n", round, secs,
                                mbPerSec(size, secs));
                        System.out.printf("BENCH ingest floor %.4f%n", secs);
                    } else {
                        long t0 = System.nanoTime();
                        Digest digest;
                        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
                             Writer writer = store.writer("bench-" + round, null)) {
                            writer.transferFrom(in, size);
                            digest = writer.commit(size, null);
                        }
                        double secs = (System.nanoTime() - t0) / 1e9;
                        berth.add(mbPerSec(size, secs));
                        if (expected != null && !expected.equals(digest.toString())) {
                            throw new AssertionError("Berth computed " + digest + " but openssl " + expected);
                        }
                        store.delete(digest);
                        System.out.printf("round %d  berth ingest+commit      %6.2f s  %8.1f MB/s%n", round, secs,
                                mbPerSec(size, secs));
                        System.out.printf("BENCH ingest berth %.4f%n", secs);
                    }
                }
            }
            double f = median(floor);
            double b = median(berth);
            System.out.printf("%nmedian over %d rounds, %d MiB file, MB = 10^6 bytes:%n", rounds, size >> 20);
            System.out.printf("  floor  %8.1f MB/s%n  berth  %8.1f MB/s%n  ratio  %.2fx the floor (target >= 0.90x)%n",
                    f, b, b / f);
            if (!ctr.isEmpty()) {
                System.out.printf("  ctr content ingest median %.2f s; berth median %.2f s (MB/s above)%n", median(ctr),
                        size / 1e6 / b);
            }
        }
    }

    private static void warmUp(LocalContentStore store, Path work) throws Exception {
        Path small = work.resolve("warmup.bin");
        createRandomFile(small, 64L << 20);
        for (int i = 0; i < 3; i++) {
            try (FileChannel in = FileChannel.open(small, StandardOpenOption.READ);
                 Writer writer = store.writer("warmup", null)) {
                writer.transferFrom(in, Long.MAX_VALUE);
                store.delete(writer.commit(0, null));
            }
        }
        Files.delete(small);
    }

    private static void createRandomFile(Path file, long size) throws IOException {
        SplittableRandom random = new SplittableRandom(2024);
        byte[] chunk = new byte[4 << 20];
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long done = 0; done < size; ) {
                random.nextBytes(chunk);
                int n = (int) Math.min(chunk.length, size - done);
                ByteBuffer buf = ByteBuffer.wrap(chunk, 0, n);
                while (buf.hasRemaining()) {
                    out.write(buf);
                }
                done += n;
            }
            out.force(true);
        }
    }

    /**
     * Lets the previous round's deletions finish (on a file system mounted with {@code discard} they turn
     * into background TRIMs that would slow the next round), then drops the page cache.
     */
    private static void settle() throws Exception {
        exec("sync");
        Thread.sleep(6000);
        dropCaches();
    }

    private static boolean dropCaches() throws Exception {
        exec("sync");
        if (!dropPageCache) {
            return false;
        }
        try {
            Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3", StandardCharsets.US_ASCII);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String exec(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    private static double mbPerSec(long bytes, double secs) {
        return bytes / 1e6 / secs;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
