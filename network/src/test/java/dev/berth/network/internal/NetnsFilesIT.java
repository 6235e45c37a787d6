package dev.berth.network.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.FailedPreconditionException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Network namespace files made in process: each a namespace of its own with {@code lo} up, bound where
 * asked, while every thread of the JVM stays in the host's namespace; removal unbinds; the directory's own
 * bind mount goes when its last namespace did. Checked with {@code nsenter} and {@code ip}, and by namespace
 * inode numbers.
 */
class NetnsFilesIT {
    private Path dir;
    private NetnsFiles files;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory(Path.of("/run"), "berth-netns-it-");
        files = new NetnsFiles(dir.resolve("netns"));
    }

    @AfterEach
    void tearDown() throws IOException {
        try (var s = Files.list(files.dir())) {
            s.forEach(files::remove);
        } catch (IOException gone) {
            // never created
        }
        files.releaseIfEmpty();
        assertThat(NetnsFiles.isListedMountPoint(files.dir())).isFalse();
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void createBindsANewNamespaceWithLoopbackUpAndLeavesTheJvmInTheHostNamespace() throws Exception {
        String hostNs = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
        String threadNs = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
        Path file = files.dir().resolve("cni-a");

        assertThat(files.create(file)).as("lo is up").isTrue();

        assertThat(files.exists(file)).isTrue();
        assertThat(NetnsFiles.isListedMountPoint(file)).isTrue();
        String inside = run("nsenter", "--net=" + file, "readlink", "/proc/self/ns/net");
        assertThat(inside.trim()).startsWith("net:[").isNotEqualTo(hostNs);
        String lo = run("nsenter", "--net=" + file, "ip", "-o", "link", "show", "lo");
        assertThat(lo).contains("LOOPBACK").contains(",UP");
        assertThat(run("nsenter", "--net=" + file, "ip", "-o", "link", "show").lines()).hasSize(1);
        assertThat(Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString()).isEqualTo(hostNs);
        assertThat(Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString()).isEqualTo(threadNs);
        // the namespace's thread has ended once create returns; its task entry may outlive it for a moment
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> threadsOutsideHostNamespace(hostNs).isEmpty());
    }

    @Test
    void concurrentCreatesGiveDistinctNamespaces() throws Exception {
        files.create(files.dir().resolve("cni-first")); // the first is serialized by callers: it mounts the directory
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<Path>> made = new ArrayList<>();
        try {
            for (int i = 0; i < 16; i++) {
                Path file = files.dir().resolve("cni-" + i);
                made.add(pool.submit(() -> {
                    files.create(file);
                    return file;
                }));
            }
            Set<String> inodes = new HashSet<>();
            for (Future<Path> f : made) {
                inodes.add(run("nsenter", "--net=" + f.get(), "readlink", "/proc/self/ns/net").trim());
            }
            assertThat(inodes).hasSize(16);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void createRefusesABoundFileAndKeepsItsNamespace() throws Exception {
        Path file = files.dir().resolve("cni-b");
        files.create(file);
        String ns = run("nsenter", "--net=" + file, "readlink", "/proc/self/ns/net");

        assertThatThrownBy(() -> files.create(file)).isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("already exists").hasMessageContaining(file.toString());
        assertThat(run("nsenter", "--net=" + file, "readlink", "/proc/self/ns/net")).isEqualTo(ns);
    }

    @Test
    void removeUnbindsAndDeletesAndReleaseUnmountsTheDirectoryWhenEmpty() throws Exception {
        Path a = files.dir().resolve("cni-c");
        Path b = files.dir().resolve("cni-d");
        files.create(a);
        files.create(b);
        assertThat(NetnsFiles.isListedMountPoint(files.dir())).isTrue();

        files.remove(a);
        assertThat(files.exists(a)).isFalse();
        assertThat(a).doesNotExist();
        files.releaseIfEmpty();
        assertThat(NetnsFiles.isListedMountPoint(files.dir())).as("b still bound there").isTrue();

        files.remove(b);
        files.remove(b); // gone: nothing happens
        files.releaseIfEmpty();
        assertThat(NetnsFiles.isListedMountPoint(files.dir())).isFalse();

        Path c = files.dir().resolve("cni-e"); // after the release the directory is mounted again
        assertThat(files.create(c)).isTrue();
        assertThat(files.exists(c)).isTrue();
    }

    @Test
    void anUnboundFileIsNoNamespace() throws Exception {
        Files.createDirectories(files.dir());
        Path plain = Files.createFile(files.dir().resolve("plain"));
        assertThat(files.exists(plain)).isFalse();
        assertThat(files.exists(files.dir().resolve("missing"))).isFalse();
    }

    private static List<String> threadsOutsideHostNamespace(String hostNs) throws IOException {
        List<String> out = new ArrayList<>();
        try (var s = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : s.toList()) {
                try {
                    String ns = Files.readSymbolicLink(t.resolve("ns/net")).toString();
                    if (!ns.equals(hostNs)) {
                        out.add(t.getFileName() + " " + Files.readString(t.resolve("comm")).trim() + " " + ns);
                    }
                } catch (IOException ended) {
                    // the thread ended meanwhile
                }
            }
        }
        return out;
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }
}
