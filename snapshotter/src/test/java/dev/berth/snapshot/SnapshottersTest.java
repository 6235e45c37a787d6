package dev.berth.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshottersTest {
    @TempDir
    Path dir;

    @Test
    void overlayRootsMustNotContainOptionSeparators() {
        assertThatThrownBy(() -> Snapshotters.overlay(dir.resolve("a,b")))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("','");
        assertThatThrownBy(() -> Snapshotters.overlay(dir.resolve("a:b")))
                .isInstanceOf(InvalidArgumentException.class);
        assertThat(dir.resolve("a,b")).doesNotExist();
    }

    @Test
    void perSnapshotOverlayOptionsCannotBeConfigured() {
        assertThatThrownBy(() -> Snapshotters.overlayBuilder(dir).mountOptions(List.of("lowerdir=/x")))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("lowerdir");
        assertThatThrownBy(() -> Snapshotters.overlayBuilder(dir).mountOptions(List.of("a,b")))
                .isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void negativeBusyTimeoutsAreRejected() {
        assertThatThrownBy(() -> Snapshotters.nativeBuilder(dir).busyTimeout(Duration.ofSeconds(-1)))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("busyTimeout");
    }

    @Test
    void defaultOverlayOptionsFollowTheKernelAndNamespace() {
        List<String> defaults = Snapshotters.defaultOverlayOptions();

        assertThat(defaults.contains("index=off"))
                .isEqualTo(java.nio.file.Files.exists(Path.of("/sys/module/overlay/parameters/index")));
    }
}
