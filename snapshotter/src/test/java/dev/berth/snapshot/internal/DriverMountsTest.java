package dev.berth.snapshot.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.Mount;
import dev.berth.api.snapshot.Kind;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class DriverMountsTest {
    private static final Path SNAPSHOTS = Path.of("/var/lib/berth/snapshots/overlayfs/snapshots");

    @Nested
    class Overlay {
        private final OverlayDriver driver = new OverlayDriver(SNAPSHOTS, List.of("index=off"), false);

        @Test
        void activeWithoutParentIsAWritableBindOfItsUpperDir() {
            assertThat(driver.mounts(7, Kind.ACTIVE, List.of())).containsExactly(
                    new Mount("bind", SNAPSHOTS + "/7/fs", List.of("rw", "rbind")));
        }

        @Test
        void viewWithoutParentIsAReadOnlyBindOfItsOwnDir() {
            assertThat(driver.mounts(7, Kind.VIEW, List.of())).containsExactly(
                    new Mount("bind", SNAPSHOTS + "/7/fs", List.of("ro", "rbind")));
        }

        @Test
        void viewOfOneParentIsAReadOnlyBindOfTheParent() {
            assertThat(driver.mounts(7, Kind.VIEW, List.of(3L))).containsExactly(
                    new Mount("bind", SNAPSHOTS + "/3/fs", List.of("ro", "rbind")));
        }

        @Test
        void activeOverParentsIsAnOverlayWithNearestParentFirst() {
            List<Mount> mounts = driver.mounts(9, Kind.ACTIVE, List.of(5L, 3L, 1L));

            assertThat(mounts).containsExactly(new Mount("overlay", "overlay", List.of(
                    "index=off",
                    "workdir=" + SNAPSHOTS + "/9/work",
                    "upperdir=" + SNAPSHOTS + "/9/fs",
                    "lowerdir=" + SNAPSHOTS + "/5/fs:" + SNAPSHOTS + "/3/fs:" + SNAPSHOTS + "/1/fs")));
        }

        @Test
        void viewOfSeveralParentsIsAnOverlayWithoutUpperDir() {
            List<Mount> mounts = driver.mounts(9, Kind.VIEW, List.of(5L, 3L));

            assertThat(mounts).containsExactly(new Mount("overlay", "overlay", List.of(
                    "index=off", "lowerdir=" + SNAPSHOTS + "/5/fs:" + SNAPSHOTS + "/3/fs")));
        }

        @Test
        void upperdirLabelIsReportedOnlyWhenEnabled() {
            assertThat(driver.reportedLabels(4)).isEmpty();
            assertThat(new OverlayDriver(SNAPSHOTS, List.of(), true).reportedLabels(4))
                    .containsEntry(OverlayDriver.UPPERDIR_LABEL, SNAPSHOTS + "/4/fs");
        }
    }

    @Nested
    class Native {
        private final NativeDriver driver = new NativeDriver(SNAPSHOTS);

        @Test
        void activeBindsItsOwnCopy() {
            assertThat(driver.mounts(4, Kind.ACTIVE, List.of(2L, 1L))).containsExactly(
                    new Mount("bind", SNAPSHOTS + "/4", List.of("rw", "rbind")));
        }

        @Test
        void viewBindsTheParentReadOnlyWithoutACopy() {
            assertThat(driver.mounts(4, Kind.VIEW, List.of(2L, 1L))).containsExactly(
                    new Mount("bind", SNAPSHOTS + "/2", List.of("ro", "rbind")));
            assertThat(driver.needsDirectory(Kind.VIEW, List.of(2L))).isFalse();
            assertThat(driver.needsDirectory(Kind.VIEW, List.of())).isTrue();
            assertThat(driver.needsDirectory(Kind.COMMITTED, List.of(2L))).isTrue();
        }
    }
}
