package dev.berth.content;

import static dev.berth.content.ContentStoreInvariants.assertEveryBlobIsComplete;
import static dev.berth.content.ContentStoreInvariants.blobFiles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.BerthException;
import dev.berth.api.Descriptor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store on a real 8 MiB tmpfs: a blob that does not fit fails cleanly and resumes once there is room. */
class DiskFullIT {
    @TempDir
    Path tmp;
    Path mountPoint;
    boolean mounted;

    @BeforeEach
    void mountSmallTmpfs() throws Exception {
        mountPoint = Files.createDirectory(tmp.resolve("tmpfs"));
        run("mount", "-t", "tmpfs", "-o", "size=8m", "berth-content-test", mountPoint.toString());
        mounted = true;
    }

    @AfterEach
    void unmount() throws Exception {
        if (mounted) {
            run("umount", mountPoint.toString());
            mounted = false;
        }
        try (var lines = Files.lines(Path.of("/proc/self/mounts"))) {
            assertThat(lines.filter(l -> l.contains(" " + mountPoint + " ")).toList()).isEmpty();
        }
    }

    @Test
    void aBlobLargerThanTheDiskFailsNamingTheIngestAndResumesWhenThereIsRoom() throws Exception {
        Path root = mountPoint.resolve("content");
        PseudoRandomBlob blob = new PseudoRandomBlob(31, 12L << 20);
        Descriptor desc = blob.descriptor();
        try (LocalContentStore store = LocalContentStore.open(root)) {
            assertThatThrownBy(() -> Content.copy(store, "too-big", blob.stream(), desc))
                    .isInstanceOf(BerthException.class)
                    .hasMessageContaining("ingest too-big")
                    .hasMessageContaining("No space left on device")
                    .hasMessageContaining("can be resumed");
            long offset = store.status("too-big").offset();
            assertThat(offset).isPositive().isLessThanOrEqualTo(8L << 20);
            assertThat(Files.size(root.resolve("ingest").resolve(IngestDir.nameOf("too-big")).resolve("data")))
                    .isEqualTo(offset);
            assertThat(blobFiles(root)).isEmpty();

            run("mount", "-o", "remount,size=32m", mountPoint.toString());
            Content.copy(store, "too-big", blob.stream(), desc);
            assertThat(store.verify(desc.digest()).size()).isEqualTo(blob.size());
            assertThat(store.listStatuses()).isEmpty();
        }
        assertEveryBlobIsComplete(root);
    }

    @Test
    void aFileCopiedByTheKernelOntoAFullDiskKeepsDataAndDigestInStepAndResumes() throws Exception {
        Path root = mountPoint.resolve("content");
        PseudoRandomBlob blob = new PseudoRandomBlob(32, 12L << 20);
        Path source = tmp.resolve("source.bin"); // outside the small file system
        try (InputStream in = blob.stream()) {
            Files.copy(in, source);
        }
        Descriptor desc = blob.descriptor();
        try (LocalContentStore store = LocalContentStore.open(root);
             java.nio.channels.FileChannel src = java.nio.channels.FileChannel.open(source)) {
            try (dev.berth.api.content.Writer w = store.writer("file-too-big", desc)) {
                assertThatThrownBy(() -> w.transferFrom(src, Long.MAX_VALUE))
                        .isInstanceOf(BerthException.class)
                        .hasMessageContaining("ingest file-too-big")
                        .hasMessageContaining("No space left on device")
                        .hasMessageContaining("can be resumed");
            }
            long offset = store.status("file-too-big").offset();
            assertThat(offset).isPositive().isLessThanOrEqualTo(8L << 20);
            assertThat(Files.size(root.resolve("ingest").resolve(IngestDir.nameOf("file-too-big")).resolve("data")))
                    .isEqualTo(offset);

            run("mount", "-o", "remount,size=32m", mountPoint.toString());
            try (dev.berth.api.content.Writer w = store.writer("file-too-big", desc)) {
                assertThat(w.status().offset()).isEqualTo(offset);
                src.position(offset);
                w.transferFrom(src, Long.MAX_VALUE);
                assertThat(w.commit(blob.size(), desc.digest())).isEqualTo(desc.digest());
            }
            assertThat(store.verify(desc.digest()).size()).isEqualTo(blob.size());
        }
        assertEveryBlobIsComplete(root);
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(List.of(command) + " failed: " + output);
        }
    }
}
