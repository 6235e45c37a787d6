package dev.berth.content;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.ClosedException;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.IoFailureException;
import dev.berth.api.content.Writer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BerthException's contract in the content store: closed objects and file failures. */
class ErrorContractTest {
    @TempDir
    Path dir;

    @Test
    void closedStoreThrowsClosedExceptionNamingItsRoot() {
        LocalContentStore store = LocalContentStore.open(dir.resolve("content"));
        store.close();

        assertThatThrownBy(() -> store.info(Digest.sha256(new byte[] {1})))
                .isInstanceOf(ClosedException.class).isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining(dir.resolve("content").toString()).hasMessageEndingWith("is closed");
    }

    @Test
    void closedWriterThrowsClosedExceptionNamingItsIngest() {
        try (LocalContentStore store = LocalContentStore.open(dir.resolve("content"))) {
            Writer writer = store.writer("contract-ref", null);
            writer.close();

            assertThatThrownBy(() -> writer.write(ByteBuffer.wrap(new byte[] {1})))
                    .isInstanceOf(ClosedException.class).hasMessageContaining("contract-ref");
        }
    }

    @Test
    void rootThatIsAFileIsAnIoFailureCarryingTheIoException() throws IOException {
        Path file = Files.writeString(dir.resolve("not-a-directory"), "x");

        assertThatThrownBy(() -> LocalContentStore.open(file.resolve("content")))
                .isInstanceOf(IoFailureException.class)
                .hasMessageContaining(file.resolve("content").toString())
                .cause().isInstanceOf(IOException.class);
    }

    @Test
    void removedIngestDirectoryIsAnIoFailureCarryingTheIoException() throws IOException {
        try (LocalContentStore store = LocalContentStore.open(dir.resolve("content"))) {
            Files.delete(dir.resolve("content").resolve("ingest"));
            Files.writeString(dir.resolve("content").resolve("ingest"), "in the way");

            assertThatThrownBy(() -> store.writer("contract-ref", null))
                    .isInstanceOf(IoFailureException.class).hasMessageContaining("contract-ref")
                    .cause().isInstanceOf(IOException.class);
        }
    }
}
