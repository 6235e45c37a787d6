package dev.berth.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.AlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleTest {
    @TempDir
    Path state;

    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;

    @Test
    void createWritesSpecRootfsAndLogFifo() throws Exception {
        Bundle bundle = Bundle.create(state.resolve("tasks"), "ns", "task-1", "{\"ociVersion\":\"1.0.2\"}".getBytes());

        assertThat(bundle.dir()).isEqualTo(state.resolve("tasks/ns/task-1"));
        assertThat(Files.getPosixFilePermissions(bundle.dir())).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.getPosixFilePermissions(bundle.rootfs())).isEqualTo(PosixFilePermissions.fromString("rwx--x--x"));
        assertThat(bundle.configJson()).hasContent("{\"ociVersion\":\"1.0.2\"}");
        int mode = (Integer) Files.getAttribute(bundle.log(), "unix:mode");
        assertThat(mode & S_IFMT).as("log is a FIFO").isEqualTo(S_IFIFO);
    }

    @Test
    void existingBundleIsNotTouched() throws Exception {
        Bundle first = Bundle.create(state.resolve("tasks"), "ns", "task-1", "{}".getBytes());

        assertThatThrownBy(() -> Bundle.create(state.resolve("tasks"), "ns", "task-1", "{\"other\":1}".getBytes()))
                .isInstanceOf(AlreadyExistsException.class).hasMessageContaining("ns/task-1");
        assertThat(first.configJson()).hasContent("{}");
    }

    @Test
    void deleteRemovesEverythingIncludingTheRenamedCopy() throws Exception {
        Bundle bundle = Bundle.create(state.resolve("tasks"), "ns", "task-1", "{}".getBytes());
        bundle.writeShimBinaryPath(Path.of("/usr/bin/containerd-shim-runc-v2"));
        Files.writeString(bundle.rootfs().resolve("file"), "x");
        assertThat(bundle.dir().resolve("shim-binary-path")).hasContent("/usr/bin/containerd-shim-runc-v2");

        bundle.delete();
        bundle.delete();

        assertThat(state.resolve("tasks/ns/task-1")).doesNotExist();
        assertThat(state.resolve("tasks/ns")).isEmptyDirectory();
    }

    @Test
    void retireFreesTheIdAtOnceUnderAHiddenName() throws Exception {
        Bundle bundle = Bundle.create(state.resolve("tasks"), "ns", "task-2", "{}".getBytes());
        Path retired = bundle.retire();

        assertThat(retired.getFileName().toString()).startsWith(".task-2.");
        assertThat(retired.resolve("config.json")).hasContent("{}");
        assertThat(state.resolve("tasks/ns/task-2")).doesNotExist();
        Bundle again = Bundle.create(state.resolve("tasks"), "ns", "task-2", "{\"a\":1}".getBytes());
        assertThat(again.retire()).isNotEqualTo(retired).exists();
        assertThat(bundle.retire()).as("nothing left to retire").isNull();
    }
}
