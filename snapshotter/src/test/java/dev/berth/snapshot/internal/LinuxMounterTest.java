package dev.berth.snapshot.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Mount;
import dev.berth.snapshot.mount.MountException;
import dev.berth.sys.Errno;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class LinuxMounterTest {

    @Test
    void lowerdirListsSplitOnUnescapedColons() {
        assertThat(LinuxMounter.splitLowerdirs("/a/1/fs:/a/2/fs")).containsExactly("/a/1/fs", "/a/2/fs");
        assertThat(LinuxMounter.splitLowerdirs("/we\\:ird:/b")).containsExactly("/we:ird", "/b");
    }

    @Test
    void overlaysUsingADirectoryAreFoundForPlainAndEscapedLayerNames() throws Exception {
        Path base = java.nio.file.Files.createTempDirectory(Path.of("/tmp"), "blm-");
        dev.berth.sys.Syscalls sys = dev.berth.sys.Syscalls.get();
        Path lower1 = base.resolve("1/fs");
        Path lower2 = base.resolve("2 odd name/fs");
        Path upper = base.resolve("3/fs");
        Path work = base.resolve("3/work");
        Path target = base.resolve("rootfs");
        try {
            for (Path p : List.of(lower1, lower2, upper, work, target)) {
                java.nio.file.Files.createDirectories(p);
            }
            sys.mount("overlay", target.toString(), "overlay", 0,
                    "lowerdir=" + lower1 + ":" + lower2 + ",upperdir=" + upper + ",workdir=" + work);

            assertThat(LinuxMounter.overlaysUsing(base.resolve("1"))).containsExactly(target);
            assertThat(LinuxMounter.overlaysUsing(lower1)).containsExactly(target);
            assertThat(LinuxMounter.overlaysUsing(base.resolve("3"))).as("upper and work").containsExactly(target, target);
            assertThat(LinuxMounter.overlaysUsing(base.resolve("2 odd name"))).containsExactly(target);
            assertThat(LinuxMounter.overlaysUsing(base.resolve("4"))).isEmpty();
            assertThat(LinuxMounter.overlaysUsing(base.resolve("1/f"))).as("whole names only").isEmpty();
        } finally {
            sys.tryUmount2(target.toString(), 0);
            try (var walk = java.nio.file.Files.walk(base)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    java.nio.file.Files.delete(p);
                }
            }
        }
    }

    @Test
    void mountTargetsAreConfinedToTheRoot() {
        Path root = Path.of("/run/x/rootfs");

        assertThat(LinuxMounter.targetOf(new Mount("bind", "/s", List.of()), root)).isEqualTo(root);
        assertThat(LinuxMounter.targetOf(new Mount("bind", "/s", "/proc", List.of()), root))
                .isEqualTo(root.resolve("proc"));
        assertThatThrownBy(() -> LinuxMounter.targetOf(new Mount("bind", "/s", "../../etc", List.of()), root))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("escapes");
    }

    @Test
    void errnoValuesHaveTheirSymbolicNames() {
        assertThat(Errno.name(1)).isEqualTo("EPERM");
        assertThat(Errno.name(22)).isEqualTo("EINVAL");
        assertThat(Errno.name(16)).isEqualTo("EBUSY");
    }

    @Test
    void mountErrorsNameErrnoSyscallPathsAndType() {
        MountException e = LinuxMounter.error("mount", 2, "/src", "/dst", "overlay", null);

        assertThat(e.getMessage()).contains("mount", "ENOENT", "/src", "/dst", "overlay");
        assertThat(e.errnoName()).isEqualTo("ENOENT");
        assertThat(e.errno()).isEqualTo(2);
        assertThat(e.syscall()).isEqualTo("mount");
        assertThat(e.fstype()).isEqualTo("overlay");
    }
}
