package dev.berth.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MountInfoTest {
    @Test
    void unescapesOctalEscapesInMountPointsAndSources() {
        List<MountInfo.Entry> entries = MountInfo.parse(List.of(
                "36 35 98:0 /mnt1 /mnt/a\\040dir\\011tab\\134x rw,noatime master:1 - ext3 /dev/root\\040x rw",
                "37 36 0:42 / /mnt/end\\040 rw - tmpfs tmpfs rw"));

        assertThat(entries).hasSize(2);
        assertThat(entries.get(0).mountPoint()).isEqualTo(Path.of("/mnt/a dir\ttab\\x"));
        assertThat(entries.get(0).fsType()).isEqualTo("ext3");
        assertThat(entries.get(0).source()).isEqualTo("/dev/root x");
        assertThat(entries.get(1).mountPoint()).isEqualTo(Path.of("/mnt/end "));
        assertThat(entries.get(1).parentId()).isEqualTo(36);
    }

    @Test
    void aBackslashNotFollowedByThreeOctalDigitsStaysAsItIs() {
        assertThat(MountInfo.unescape("a\\9b\\04")).isEqualTo("a\\9b\\04");
    }

    @Test
    void mountPointsUnderADirectoryAreListedDeepestFirstAndOnlyWholeComponentsMatch() {
        List<MountInfo.Entry> entries = MountInfo.parse(List.of(
                "1 0 0:1 / / rw - ext4 /dev/sda rw",
                "2 1 0:2 / /srv/x rw - tmpfs tmpfs rw",
                "3 2 0:3 / /srv/x/y/z rw - tmpfs tmpfs rw",
                "4 1 0:4 / /srv/xy rw - tmpfs tmpfs rw"));

        assertThat(MountInfo.under(entries, Path.of("/srv/x")))
                .containsExactly(Path.of("/srv/x/y/z"), Path.of("/srv/x"));
    }

    @Test
    void onlyPathsWithoutEscapedCharactersCanBeLookedForInTheRawText() {
        assertThat(MountInfo.survivesEscaping("/var/lib/berth/snapshots/12", " \t\n\\")).isTrue();
        assertThat(MountInfo.survivesEscaping("/var/a dir", " \t\n\\")).isFalse();
        assertThat(MountInfo.survivesEscaping("/var/a\\b", " \t\n\\")).isFalse();
        assertThat(MountInfo.survivesEscaping("/var/a,b", ",=: \t\n\\")).isFalse();
    }

    @Test
    void realMountsUnderADirectoryAreFoundWithThePrefilterAsWithoutIt() throws Exception {
        assertThat(MountInfo.PREFILTER).as("on by default").isTrue();
        Path base = java.nio.file.Files.createTempDirectory(Path.of("/tmp"), "bmi-");
        Syscalls sys = Syscalls.get();
        List<Path> plain = List.of(base.resolve("m"), base.resolve("m/inner"));
        Path spaced = base.resolve("with space");
        try {
            java.nio.file.Files.createDirectories(plain.get(0));
            java.nio.file.Files.createDirectories(spaced);
            sys.mount("tmpfs", plain.get(0).toString(), "tmpfs", 0, "size=64k");
            java.nio.file.Files.createDirectories(plain.get(1));
            sys.mount("tmpfs", plain.get(1).toString(), "tmpfs", 0, "size=64k");
            sys.mount("tmpfs", spaced.toString(), "tmpfs", 0, "size=64k");

            assertThat(MountInfo.mountPointsUnder(base)).containsExactly(plain.get(1), plain.get(0), spaced)
                    .containsExactlyElementsOf(MountInfo.under(MountInfo.read(), base));
            assertThat(MountInfo.mountPointsUnder(spaced)).containsExactly(spaced);
            assertThat(MountInfo.mountPointsUnder(base.resolve("m"))).containsExactly(plain.get(1), plain.get(0));
            assertThat(MountInfo.mountPointsUnder(base.resolve("nothing"))).isEmpty();
        } finally {
            for (Path p : List.of(plain.get(1), plain.get(0), spaced)) {
                sys.tryUmount2(p.toString(), 0);
            }
            try (var walk = java.nio.file.Files.walk(base)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    java.nio.file.Files.delete(p);
                }
            }
        }
    }

    @Test
    void readsThisProcessesTable() {
        assertThat(MountInfo.read()).anySatisfy(e -> assertThat(e.mountPoint()).isEqualTo(Path.of("/")));
    }
}
