package dev.berth.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.ClosedException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.IoFailureException;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.testing.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BerthException's contract in the snapshotters: closed objects and file failures. */
class ErrorContractTest {
    @TempDir
    Path dir;

    @Test
    void closedSnapshotterThrowsClosedExceptionNamingItsRoot() {
        Snapshotter sn = Snapshotters.nativeSnapshotter(dir.resolve("native"));
        sn.close();

        assertThatThrownBy(() -> sn.prepare("after-close", null))
                .isInstanceOf(ClosedException.class).isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining(dir.resolve("native").toString()).hasMessageEndingWith("is closed");
    }

    @Test
    void rootUnderAFileIsAnIoFailureCarryingTheIoException() throws IOException {
        Path file = Files.writeString(dir.resolve("not-a-directory"), "x");

        assertThatThrownBy(() -> Snapshotters.nativeSnapshotter(file.resolve("native")))
                .isInstanceOf(IoFailureException.class)
                .hasMessageContaining(file.resolve("native").toString())
                .cause().isInstanceOf(IOException.class);
    }

    @Test
    void removedSnapshotsDirectoryFailsPrepareWithTheIoExceptionAsCause() throws IOException {
        try (Snapshotter sn = Snapshotters.nativeSnapshotter(dir.resolve("native"))) {
            TestFiles.deleteTree(dir.resolve("native").resolve("snapshots"));
            Files.writeString(dir.resolve("native").resolve("snapshots"), "in the way");

            assertThatThrownBy(() -> sn.prepare("no-room", null))
                    .isInstanceOf(IoFailureException.class).cause().isInstanceOf(IOException.class);
            assertThat(sn.list()).isEmpty();
        }
    }
}
