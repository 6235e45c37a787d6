package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.ClosedException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.IoFailureException;
import dev.berth.testing.Busybox;
import dev.berth.testing.OciLayout;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BerthException's contract in the image service: closed objects and file failures. */
class ErrorContractTest {
    @TempDir
    Path dir;

    @Test
    void closedImageServiceThrowsClosedExceptionNamingIt() {
        try (Fixture f = new Fixture(dir)) {
            f.service.close();

            assertThatThrownBy(() -> f.service.get("docker.io/library/busybox:latest"))
                    .isInstanceOf(ClosedException.class).isInstanceOf(FailedPreconditionException.class)
                    .hasMessage("image service is closed");
        }
    }

    @Test
    void missingArchiveIsAnIoFailureCarryingTheIoException() {
        try (Fixture f = new Fixture(dir)) {
            Path missing = dir.resolve("removed.tar");

            assertThatThrownBy(() -> f.service.importArchive(missing))
                    .isInstanceOf(IoFailureException.class).hasMessageContaining(missing.toString())
                    .cause().isInstanceOf(NoSuchFileException.class);
        }
    }

    @Test
    void exportToAFullDeviceIsAnIoFailureCarryingTheIoException() throws IOException {
        try (Fixture f = new Fixture(dir)) {
            Path archive = dir.resolve("busybox.tar");
            OciLayout.builder().image("docker.io/library/busybox:contract", Busybox.image()).writeTar(archive);
            f.service.importArchive(archive);

            try (OutputStream full = new FileOutputStream("/dev/full")) {
                assertThatThrownBy(() -> f.service.export(full, "docker.io/library/busybox:contract"))
                        .isInstanceOf(IoFailureException.class).hasMessageContaining("export")
                        .cause().isInstanceOf(IOException.class).hasMessageContaining("No space left");
            }
        }
    }
}
