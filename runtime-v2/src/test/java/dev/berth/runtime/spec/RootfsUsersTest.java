package dev.berth.runtime.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.oci.runtime.User;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RootfsUsersTest {
    @TempDir
    Path rootfs;

    @Test
    void numericUserNeedsNoRootfs() {
        assertThat(RootfsUsers.resolve(null, "5:6")).isEqualTo(inGroup(5, 6));
        assertThat(RootfsUsers.resolve(null, "5")).isEqualTo(inGroup(5, 0));
        assertThat(RootfsUsers.resolve(null, "")).isEqualTo(inGroup(0, 0));
    }

    /** A user whose only supplementary group is its primary one. */
    private static User inGroup(long uid, long gid) {
        return new User(uid, gid, null, List.of(gid), null);
    }

    @Test
    void thePrimaryGroupLeadsTheSupplementaryGroups() throws IOException {
        Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(rootfs.resolve("etc/passwd"), "svc:x:300:301::/:/bin/sh\n");
        Files.writeString(rootfs.resolve("etc/group"), "svc:x:301:svc\nvideo:x:44:svc\nlogs:x:45:other\n");

        assertThat(RootfsUsers.resolve(rootfs, "svc").additionalGids()).containsExactly(301L, 44L);
        assertThat(RootfsUsers.resolve(rootfs, "svc:45").additionalGids()).containsExactly(45L, 44L);
        assertThat(RootfsUsers.resolve(rootfs, "300:44").additionalGids()).as("no duplicate").containsExactly(44L);
    }

    @Test
    void idsAboveUint32AreRejected() {
        assertThatThrownBy(() -> RootfsUsers.resolve(null, "4294967296")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("4294967296");
        assertThat(RootfsUsers.resolve(null, "4294967295:0").uid()).isEqualTo(4294967295L);
    }

    @Test
    void groupIdsMixNamesAndNumbers() throws IOException {
        Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(rootfs.resolve("etc/group"), "video:x:44:\n");

        assertThat(RootfsUsers.groupIds(rootfs, List.of("video", "7"))).containsExactly(44L, 7L);
        assertThatThrownBy(() -> RootfsUsers.groupIds(rootfs, List.of("disk")))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"disk\"");
    }

    @Test
    void relativeSymlinksResolveWithinTheRoot() throws IOException {
        Files.createDirectories(rootfs.resolve("etc"));
        Files.createDirectories(rootfs.resolve("usr/share/base"));
        Files.writeString(rootfs.resolve("usr/share/base/passwd"), "svc:x:300:301::/:/bin/sh\n");
        Files.createSymbolicLink(rootfs.resolve("etc/passwd"), Path.of("../usr/share/base/passwd"));

        assertThat(RootfsUsers.resolve(rootfs, "svc")).isEqualTo(inGroup(300, 301));
    }

    @Test
    void symlinkLoopIsAnErrorNotAHang() throws IOException {
        Files.createDirectories(rootfs.resolve("etc"));
        Files.createSymbolicLink(rootfs.resolve("etc/passwd"), Path.of("/etc/passwd"));

        assertThatThrownBy(() -> RootfsUsers.resolve(rootfs, "svc")).isInstanceOf(RuntimeException.class)
                .hasMessageContaining("/etc/passwd");
    }

    @Nested
    class HostileFiles {
        @Test
        void fifoAsPasswdIsRefusedWithoutBlocking() throws Exception {
            Files.createDirectories(rootfs.resolve("etc"));
            Process mkfifo = new ProcessBuilder("mkfifo", rootfs.resolve("etc/passwd").toString()).start();
            assertThat(mkfifo.waitFor()).isZero();

            assertTimeoutPreemptively(Duration.ofSeconds(10), () ->
                    assertThatThrownBy(() -> RootfsUsers.resolve(rootfs, "svc"))
                            .isInstanceOf(InvalidArgumentException.class)
                            .hasMessageContaining("/etc/passwd").hasMessageContaining("not a regular file"));
        }

        @Test
        void characterDeviceAsPasswdIsRefused() throws Exception {
            Files.createDirectories(rootfs.resolve("dev"));
            Files.createDirectories(rootfs.resolve("etc"));
            Process mknod = new ProcessBuilder("mknod", rootfs.resolve("dev/zero").toString(), "c", "1", "5").start();
            assertThat(mknod.waitFor()).isZero();
            Files.createSymbolicLink(rootfs.resolve("etc/passwd"), Path.of("/dev/zero"));

            assertTimeoutPreemptively(Duration.ofSeconds(10), () ->
                    assertThatThrownBy(() -> RootfsUsers.resolve(rootfs, "svc"))
                            .isInstanceOf(InvalidArgumentException.class)
                            .hasMessageContaining("/etc/passwd").hasMessageContaining("not a regular file"));
        }

        @Test
        void passwdAboveTheCapIsRefusedNamingFileAndCap() throws IOException {
            Files.createDirectories(rootfs.resolve("etc"));
            Files.write(rootfs.resolve("etc/passwd"), new byte[RootfsUsers.MAX_FILE_BYTES + 1]);

            assertThatThrownBy(() -> RootfsUsers.resolve(rootfs, "svc"))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("/etc/passwd").hasMessageContaining(String.valueOf(RootfsUsers.MAX_FILE_BYTES));
        }

        @Test
        void absoluteSymlinkStaysInsideTheRootfs() throws IOException {
            Files.createDirectories(rootfs.resolve("etc"));
            Files.createDirectories(rootfs.resolve("host"));
            Files.writeString(rootfs.resolve("host/users"), "inside:x:12:13::/:/bin/sh\n");
            Files.createSymbolicLink(rootfs.resolve("etc/passwd"), Path.of("/host/users"));

            assertThat(RootfsUsers.resolve(rootfs, "inside")).isEqualTo(inGroup(12, 13));
            assertThatThrownBy(() -> RootfsUsers.resolve(rootfs, "root"))
                    .isInstanceOf(InvalidArgumentException.class);
        }
    }
}
