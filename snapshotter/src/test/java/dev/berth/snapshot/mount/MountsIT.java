package dev.berth.snapshot.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Mount;
import dev.berth.api.NotImplementedException;
import java.io.InputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.StringJoiner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountsIT {
    @TempDir
    Path tmp;
    Path src;
    Path target;

    @BeforeEach
    void dirs() throws Exception {
        src = Files.createDirectory(tmp.resolve("src"));
        Files.writeString(src.resolve("f"), "hello");
        target = Files.createDirectory(tmp.resolve("target"));
    }

    @AfterEach
    void nothingLeftMounted() {
        List<Path> left = Mounts.mountPointsUnder(tmp);
        List<Path> reversed = new ArrayList<>(left);
        Collections.reverse(reversed);
        reversed.forEach(Mounts::unmountAll);
        assertThat(left).as("mounts left behind").isEmpty();
    }

    @Test
    void bindMountsShowTheSourceUntilClosed() throws Exception {
        Mounted m = Mounts.mountAll(List.of(new Mount("bind", src.toString(), List.of("rbind", "rw"))), target);
        assertThat(target.resolve("f")).hasContent("hello");
        Files.writeString(target.resolve("g"), "written through");
        assertThat(Mounts.mountPointsUnder(tmp)).containsExactly(target);
        assertThat(m.mountPoints()).containsExactly(target);
        m.close();
        m.close();
        assertThat(Mounts.mountPointsUnder(tmp)).isEmpty();
        assertThat(target.resolve("f")).doesNotExist();
        assertThat(src.resolve("g")).hasContent("written through");
    }

    @Test
    void readOnlyBindMountsAreReallyReadOnly() throws Exception {
        try (Mounted m = Mounts.mount(new Mount("bind", src.toString(), List.of("ro", "rbind", "nosuid", "nodev")),
                target)) {
            assertThat(m.target().resolve("f")).hasContent("hello");
            assertThatThrownBy(() -> Files.writeString(target.resolve("g"), "x"))
                    .isInstanceOf(FileSystemException.class)
                    .hasMessageContaining("Read-only file system");
            assertThat(mountOptionsOf(target)).contains("ro").contains("nosuid").contains("nodev");
        }
    }

    @Test
    void tmpfsDataOptionsReachTheFileSystem() throws Exception {
        try (Mounted m = Mounts.mount(new Mount("tmpfs", "berth-test", List.of("size=1m", "mode=0701", "noexec")),
                target)) {
            assertThat(Files.getAttribute(m.target(), "unix:mode")).isEqualTo(040701);
            assertThat(mountOptionsOf(target)).contains("noexec");
        }
    }

    @Test
    void failuresNameErrnoSyscallSourceTargetAndType() {
        Path missing = tmp.resolve("missing");

        assertThatThrownBy(() -> Mounts.mount(new Mount("bind", missing.toString(), List.of("rbind")), target))
                .isInstanceOfSatisfying(MountException.class, e -> {
                    assertThat(e.errnoName()).isEqualTo("ENOENT");
                    assertThat(e.syscall()).isEqualTo("mount");
                    assertThat(e.getMessage()).contains("ENOENT", "mount", missing.toString(), target.toString(), "bind");
                });
        assertThatThrownBy(() -> Mounts.mount(new Mount("nosuchfs", "x", List.of()), target))
                .isInstanceOfSatisfying(MountException.class, e -> {
                    assertThat(e.errnoName()).isEqualTo("ENODEV");
                    assertThat(e.fstype()).isEqualTo("nosuchfs");
                });
    }

    @Test
    void aFailingMountListUndoesTheMountsAlreadyMade() throws Exception {
        Files.createDirectory(src.resolve("sub"));
        List<Mount> mounts = List.of(
                new Mount("bind", src.toString(), List.of("rbind")),
                new Mount("bind", tmp.resolve("missing").toString(), "sub", List.of("rbind")));

        assertThatThrownBy(() -> Mounts.mountAll(mounts, target)).isInstanceOf(MountException.class);
        assertThat(Mounts.mountPointsUnder(tmp)).isEmpty();
    }

    @Test
    void mountsWithRelativeTargetsStackInsideTheRoot() throws Exception {
        Path other = Files.createDirectory(tmp.resolve("other"));
        Files.writeString(other.resolve("o"), "other");
        Files.createDirectory(src.resolve("sub"));
        List<Mount> mounts = List.of(
                new Mount("bind", src.toString(), List.of("rbind")),
                new Mount("bind", other.toString(), "/sub", List.of("rbind", "ro")));

        try (Mounted m = Mounts.mountAll(mounts, target)) {
            assertThat(target.resolve("sub/o")).hasContent("other");
            assertThat(m.mountPoints()).containsExactly(target, target.resolve("sub"));
        }
        assertThatThrownBy(() -> Mounts.mountAll(List.of(new Mount("bind", src.toString(), "../..", List.of("rbind"))),
                target)).isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void busyMountsAreDetachedLazily() throws Exception {
        Mounted m = Mounts.mount(new Mount("bind", src.toString(), List.of("rbind")), target);
        try (InputStream open = Files.newInputStream(target.resolve("f"))) {
            m.close();
            assertThat(Mounts.mountPointsUnder(tmp)).isEmpty();
            assertThat(open.readAllBytes()).asString().isEqualTo("hello");
        }
    }

    @Test
    void unmountAllRemovesStackedMounts() throws Exception {
        Mounts.mount(new Mount("tmpfs", "one", List.of()), target);
        Mounts.mount(new Mount("tmpfs", "two", List.of()), target);

        assertThat(Mounts.unmountAll(target)).isEqualTo(2);
        assertThat(Mounts.unmount(target)).isFalse();
    }

    @Test
    void propagationOptionsAreApplied() throws Exception {
        try (Mounted m = Mounts.mount(new Mount("bind", src.toString(), List.of("rbind", "rshared")), target)) {
            assertThat(mountInfoLine(m.target())).contains("shared:");
            Mounts.mount(new Mount("", "", List.of("rprivate")), target);
            assertThat(mountInfoLine(target)).doesNotContain("shared:");
        }
    }

    @Test
    void loopMountsAreNotImplemented() {
        assertThatThrownBy(() -> Mounts.mount(new Mount("ext4", "/img", List.of("loop")), target))
                .isInstanceOf(NotImplementedException.class);
    }

    @Test
    void overlaysTooLongForMountTwoAreMadeWithTheNewMountApi() throws Exception {
        StringJoiner lower = new StringJoiner(":", "lowerdir=", "");
        for (int i = 0; i < 60; i++) {
            Path l = Files.createDirectories(tmp.resolve("layers-with-a-rather-long-name/layer-number-" + i));
            Files.writeString(l.resolve("f" + i), "" + i);
            lower.add(l.toString());
        }
        Path upper = Files.createDirectory(tmp.resolve("upper"));
        Path work = Files.createDirectory(tmp.resolve("work"));
        Mount m = new Mount("overlay", "overlay", List.of("index=off", "workdir=" + work, "upperdir=" + upper,
                lower.toString()));
        assertThat(m.optionString().length()).isGreaterThan(4096);

        try (Mounted mounted = Mounts.mount(m, target)) {
            for (int i = 0; i < 60; i++) {
                assertThat(mounted.target().resolve("f" + i)).hasContent("" + i);
            }
            Files.writeString(target.resolve("new"), "n");
        }
        assertThat(upper.resolve("new")).hasContent("n");
    }

    @Test
    void newMountApiErrorsCarryTheKernelsReason() throws Exception {
        StringJoiner lower = new StringJoiner(":", "lowerdir=", "");
        for (int i = 0; i < 60; i++) {
            lower.add(tmp.resolve("layers-that-do-not-exist-anywhere/layer-number-" + i).toString());
        }
        Mount m = new Mount("overlay", "overlay", List.of(lower.toString()));

        assertThatThrownBy(() -> Mounts.mount(m, target))
                .isInstanceOfSatisfying(MountException.class, e -> {
                    assertThat(e.syscall()).startsWith("fsconfig");
                    assertThat(e.errnoName()).isEqualTo("ENOENT");
                    assertThat(e.getMessage()).contains("layer-number-0");
                });
    }

    private static String mountInfoLine(Path mountPoint) throws Exception {
        String line = null;
        for (String l : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            if (l.split(" ")[4].equals(mountPoint.toString())) {
                line = l;
            }
        }
        assertThat(line).as("mountinfo line of " + mountPoint).isNotNull();
        return line;
    }

    private static List<String> mountOptionsOf(Path mountPoint) throws Exception {
        return List.of(mountInfoLine(mountPoint).split(" ")[5].split(","));
    }
}
