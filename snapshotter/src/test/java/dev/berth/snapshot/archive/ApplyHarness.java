package dev.berth.snapshot.archive;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.TestFiles;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Applies lower layers and then a layer under test in one of the two modes, the way the snapshotters
 * do: naive into one directory that accumulates every layer (the native snapshotter's copy of its
 * parent), or overlay into a fresh upper directory per layer over the previous layers' directories.
 * A canary directory beside the target must stay untouched whatever the layer does.
 */
final class ApplyHarness implements AutoCloseable {
    enum Mode { NAIVE, OVERLAY }

    final Mode mode;
    final Path base;
    final Path canary;
    private final List<Path> layerDirs = new ArrayList<>(); // applied layers, bottom first (overlay)
    private Path target;
    private final TreeMap<String, TreeSnapshot.Node> canaryBefore;
    private final TreeMap<String, String> inodesBefore;
    private TreeMap<String, String> lowersBefore = new TreeMap<>();
    private final LayerApplier applier;

    ApplyHarness(Mode mode) {
        this(mode, LayerApplier.builder().deviceNodes(LayerApplier.DeviceNodes.CREATE).build());
    }

    ApplyHarness(Mode mode, LayerApplier applier) {
        this.mode = mode;
        this.applier = applier;
        try {
            this.base = Files.createTempDirectory("berth-apply-");
            this.canary = Files.createDirectories(base.resolve("canary"));
            Files.writeString(canary.resolve("secret"), "canary");
            Files.createDirectories(canary.resolve("dir"));
            Files.writeString(canary.resolve("dir/inner"), "inner");
            Files.createDirectories(base.resolve("etc"));
            Files.writeString(base.resolve("etc/passwd"), "root:x:0:0");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.canaryBefore = outside();
        this.inodesBefore = inodes(base.resolve("canary"), base.resolve("etc"));
        if (mode == Mode.NAIVE) {
            target = base.resolve("root");
            mkdir(target);
        }
    }

    /** The absolute path of the canary directory, for layers that try to reach it. */
    String canaryPath() {
        return canary.toString();
    }

    /** Applies a lower layer (checked to succeed). */
    ApplyHarness lower(TestTar layer) {
        apply(layer.bytes());
        return this;
    }

    /** Applies {@code layer} as the next layer. */
    ApplyResult apply(byte[] layer) {
        try {
            if (mode == Mode.NAIVE) {
                return applier.apply(new ByteArrayInputStream(layer), ApplyTarget.naive(target));
            }
            Path upper = base.resolve("layer" + layerDirs.size());
            mkdir(upper);
            lowersBefore = inodes(layerDirs.toArray(Path[]::new));
            List<Path> lowers = new ArrayList<>(layerDirs);
            java.util.Collections.reverse(lowers);
            layerDirs.add(upper);
            target = upper;
            return applier.apply(new ByteArrayInputStream(layer), ApplyTarget.overlay(upper, lowers));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    ApplyResult apply(TestTar layer) {
        return apply(layer.bytes());
    }

    /** The directory the last layer was written into (naive target or overlay upper). */
    Path written() {
        return target;
    }

    /** The merged view after all layers: the naive directory, or the overlay mounted read-only. */
    TreeMap<String, TreeSnapshot.Node> merged() {
        if (mode == Mode.NAIVE) {
            return TreeSnapshot.of(target);
        }
        Path mnt = base.resolve("mnt");
        Path empty = base.resolve("empty");
        mkdir(mnt);
        mkdir(empty);
        List<Path> lowers = new ArrayList<>(layerDirs);
        java.util.Collections.reverse(lowers);
        lowers.add(empty); // a lower-only overlay needs two lower directories
        String lowerdir = lowers.stream().map(Path::toString).collect(Collectors.joining(":"));
        run("mount", "-t", "overlay", "overlay", "-o", "ro,lowerdir=" + lowerdir, mnt.toString());
        try {
            return TreeSnapshot.of(mnt);
        } finally {
            run("umount", mnt.toString());
        }
    }

    /** Everything outside the layer directories: the canary and the fake /etc beside the target. */
    private TreeMap<String, TreeSnapshot.Node> outside() {
        TreeMap<String, TreeSnapshot.Node> all = new TreeMap<>();
        TreeSnapshot.of(canary).forEach((k, v) -> all.put("canary/" + k, v));
        TreeSnapshot.of(base.resolve("etc")).forEach((k, v) -> all.put("etc/" + k, v));
        return all;
    }

    /**
     * Inode, link count and ctime of every path below {@code roots}: any write, chmod, chown, xattr,
     * link or unlink changes the ctime of the file or of its directory.
     */
    private static TreeMap<String, String> inodes(Path... roots) {
        TreeMap<String, String> all = new TreeMap<>();
        for (Path r : roots) {
            try (Stream<Path> s = Files.walk(r)) {
                for (Path p : s.toList()) {
                    java.util.Map<String, Object> a = Files.readAttributes(p, "unix:ino,nlink,ctime",
                            java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    all.put(p.toString(), a.get("ino") + " nlink=" + a.get("nlink") + " ctime="
                            + ((java.nio.file.attribute.FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return all;
    }

    /**
     * Asserts that nothing outside the target changed and nothing appeared beside it: not the canary,
     * not the fake /etc, and (overlay) not one inode of the lower layers the last layer was applied over.
     */
    void assertOutsideUntouched() {
        assertThat(outside()).isEqualTo(canaryBefore);
        assertThat(inodes(base.resolve("canary"), base.resolve("etc"))).as("inodes outside the root")
                .isEqualTo(inodesBefore);
        if (mode == Mode.OVERLAY && layerDirs.size() > 1) {
            assertThat(inodes(layerDirs.subList(0, layerDirs.size() - 1).toArray(Path[]::new)))
                    .as("lower layers").isEqualTo(lowersBefore);
        }
        try (Stream<Path> s = Files.list(base)) {
            List<String> names = s.map(p -> p.getFileName().toString())
                    .filter(n -> !n.equals("root") && !n.startsWith("layer") && !n.equals("mnt") && !n.equals("empty"))
                    .sorted().toList();
            assertThat(names).containsExactly("canary", "etc");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void mkdir(Path p) {
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            TestFiles.deleteTree(base); // fd-relative: copes with paths beyond PATH_MAX
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
