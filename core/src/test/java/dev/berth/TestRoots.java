package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.snapshot.mount.Mounts;
import dev.berth.testing.Busybox;
import dev.berth.testing.OciLayout;
import dev.berth.testing.TestFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A fresh Berth root and state directory per test, and the busybox image archive every test imports. */
final class TestRoots implements AutoCloseable {
    static final String BUSYBOX = "docker.io/library/busybox:latest";
    private static volatile Path archive;

    final Path root;
    final Path state;

    TestRoots() throws IOException {
        this.root = Files.createTempDirectory("berth-root-");
        // short: the shims' event socket lives here and unix socket paths are limited to 108 bytes
        this.state = Files.createTempDirectory(Path.of("/tmp"), "bst-");
    }

    Berth open() {
        return builder().build();
    }

    Berth.Builder builder() {
        return Berth.builder().root(root).stateDir(state).gcPolicy(GcPolicy.manual());
    }

    /** The busybox image as an OCI layout tar, named {@value #BUSYBOX}; built once per JVM. */
    static Path busyboxArchive() {
        Path a = archive;
        if (a == null) {
            synchronized (TestRoots.class) {
                a = archive;
                if (a == null) {
                    try {
                        a = Files.createTempFile("berth-busybox-", ".tar");
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    a.toFile().deleteOnExit();
                    OciLayout.builder().image(BUSYBOX, Busybox.image()).writeTar(a);
                    archive = a;
                }
            }
        }
        return a;
    }

    /** Asserts nothing is left mounted under the root, then removes both directories. */
    @Override
    public void close() throws IOException {
        assertThat(Mounts.mountPointsUnder(root)).as("mounts left under %s", root).isEmpty();
        assertThat(Mounts.mountPointsUnder(state)).as("mounts left under %s", state).isEmpty();
        TestFiles.deleteTree(root);
        TestFiles.deleteTree(state);
    }
}
