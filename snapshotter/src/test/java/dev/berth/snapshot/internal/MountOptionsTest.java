package dev.berth.snapshot.internal;

import static dev.berth.snapshot.internal.MountOptions.MS_BIND;
import static dev.berth.snapshot.internal.MountOptions.MS_NODEV;
import static dev.berth.snapshot.internal.MountOptions.MS_NOEXEC;
import static dev.berth.snapshot.internal.MountOptions.MS_NOSUID;
import static dev.berth.snapshot.internal.MountOptions.MS_PRIVATE;
import static dev.berth.snapshot.internal.MountOptions.MS_RDONLY;
import static dev.berth.snapshot.internal.MountOptions.MS_REC;
import static dev.berth.snapshot.internal.MountOptions.MS_REMOUNT;
import static dev.berth.snapshot.internal.MountOptions.MS_SHARED;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class MountOptionsTest {

    @Test
    void flagOptionsBecomeMountFlagsAndTheRestBecomesData() {
        MountOptions o = MountOptions.parse(List.of("ro", "nosuid", "nodev", "noexec", "index=off",
                "lowerdir=/a:/b", "userxattr"));

        assertThat(o.flags()).isEqualTo(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
        assertThat(o.dataString()).isEqualTo("index=off,lowerdir=/a:/b,userxattr");
        assertThat(o.propagation()).isZero();
    }

    @Test
    void rbindIsARecursiveBind() {
        MountOptions o = MountOptions.parse(List.of("rbind", "ro"));

        assertThat(o.flags()).isEqualTo(MS_BIND | MS_REC | MS_RDONLY);
        assertThat(o.isBind()).isTrue();
        assertThat(o.data()).isEmpty();
    }

    @Test
    void laterOptionsOverrideEarlierOnes() {
        assertThat(MountOptions.parse(List.of("ro", "rw")).readOnly()).isFalse();
        assertThat(MountOptions.parse(List.of("rw", "ro")).readOnly()).isTrue();
        assertThat(MountOptions.parse(List.of("nosuid", "suid")).flags()).isZero();
        assertThat(MountOptions.parse(List.of("noexec", "exec", "nodev", "dev")).flags()).isZero();
    }

    @Test
    void propagationIsKeptApartFromTheMountFlags() {
        MountOptions o = MountOptions.parse(List.of("bind", "rprivate"));

        assertThat(o.flags()).isEqualTo(MS_BIND);
        assertThat(o.propagation()).isEqualTo(MS_PRIVATE | MS_REC);
        assertThat(MountOptions.parse(List.of("shared")).propagation()).isEqualTo(MS_SHARED);
    }

    @Test
    void remountAndDefaultsAreRecognised() {
        MountOptions o = MountOptions.parse(List.of("defaults", "remount", "ro"));

        assertThat(o.flags()).isEqualTo(MS_REMOUNT | MS_RDONLY);
        assertThat(o.isRemount()).isTrue();
        assertThat(o.data()).isEmpty();
    }

    @Test
    void loopIsFlaggedNotPassedToTheFileSystem() {
        MountOptions o = MountOptions.parse(List.of("loop", "ro"));

        assertThat(o.loop()).isTrue();
        assertThat(o.data()).isEmpty();
    }

    @Test
    void emptyOptionsAreIgnored() {
        assertThat(MountOptions.parse(List.of("", "mode=755")).dataString()).isEqualTo("mode=755");
    }
}
