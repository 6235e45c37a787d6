package dev.berth.content;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.Digest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;

/** What must hold after any crash: every file under {@code blobs/} is a complete, read-only blob. */
final class ContentStoreInvariants {
    private ContentStoreInvariants() {
    }

    static List<Path> blobFiles(Path root) throws IOException {
        Path blobs = root.resolve("blobs");
        if (!Files.exists(blobs)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(blobs)) {
            return files.filter(p -> !Files.isDirectory(p)).sorted().toList();
        }
    }

    static void assertEveryBlobIsComplete(Path root) throws IOException {
        for (Path blob : blobFiles(root)) {
            String algorithm = blob.getParent().getFileName().toString();
            Digest named = new Digest(algorithm, blob.getFileName().toString());
            assertThat(LocalContentStore.hashFile(blob, algorithm)).as("content of %s", blob).isEqualTo(named);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(blob)))
                    .as("mode of %s", blob).isEqualTo("r--r--r--");
        }
    }
}
