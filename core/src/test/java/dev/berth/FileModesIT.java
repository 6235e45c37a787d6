package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** What Berth creates has explicit modes, not ones the process umask decides (000 here). */
class FileModesIT {
    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void modesUnderUmask000AreContainerdsNotWorldWritable() throws Exception {
        try (TestRoots roots = new TestRoots();
             ChildJvm child = ChildJvm.startWithUmask("000", OpenUnderUmaskChild.class, List.of(),
                     roots.root.toString(), roots.state.toString(), TestRoots.busyboxArchive().toString())) {
            assertThat(child.awaitLine("ready", Duration.ofSeconds(120))).isNotNull();
            Path root = roots.root;
            Path content = root.resolve("content");
            Path snapshots = root.resolve("snapshots");

            assertThat(mode(root)).as("root").isEqualTo("rwx--x--x");
            assertThat(mode(roots.state)).as("state dir").isEqualTo("rwx--x--x");
            assertThat(mode(root.resolve("meta.db"))).as("meta.db").isEqualTo("rw-------");
            assertThat(mode(content)).as("content").isEqualTo("rwx--x--x");
            assertThat(mode(content.resolve("blobs"))).as("blobs").isEqualTo("rwx--x--x");
            assertThat(mode(content.resolve("blobs/sha256"))).as("blobs/sha256").isEqualTo("rwx--x--x");
            assertThat(mode(content.resolve("ingest"))).as("ingest").isEqualTo("rwx------");
            try (Stream<Path> blobs = Files.list(content.resolve("blobs/sha256"))) {
                assertThat(blobs.toList()).isNotEmpty().allSatisfy(b -> assertThat(mode(b)).isEqualTo("r--r--r--"));
            }
            assertThat(mode(snapshots)).as("snapshots").isEqualTo("rwx------");
            try (Stream<Path> dirs = Files.list(snapshots)) {
                for (Path sn : dirs.toList()) {
                    assertThat(mode(sn)).as(sn.toString()).isEqualTo("rwx------");
                    assertThat(mode(sn.resolve("snapshots"))).as(sn + "/snapshots").isEqualTo("rwx------");
                    assertThat(mode(sn.resolve("metadata.db"))).as(sn + "/metadata.db").isEqualTo("rw-------");
                }
            }
            Path socket = roots.state.resolve("events.sock");
            assertThat(socket).exists();
            assertThat(mode(socket)).as("events.sock").isEqualTo("rw-------");
            try (Stream<Path> all = Files.walk(root)) {
                assertThat(all.filter(p -> !Files.isSymbolicLink(p)).filter(p -> {
                    try {
                        return mode(p).charAt(7) == 'w';
                    } catch (IOException e) {
                        return false;
                    }
                }).filter(p -> !p.startsWith(snapshots.resolve("overlayfs/snapshots"))
                        && !p.startsWith(snapshots.resolve("native/snapshots")))
                        .toList()).as("world-writable under the root").isEmpty();
            }

            child.closeStdin();
            assertThat(child.waitForExit(Duration.ofSeconds(60))).isZero();
        }
    }
}
