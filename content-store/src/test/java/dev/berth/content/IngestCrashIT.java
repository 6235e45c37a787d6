package dev.berth.content;

import static dev.berth.content.ContentStoreInvariants.assertEveryBlobIsComplete;
import static dev.berth.content.ContentStoreInvariants.blobFiles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.Descriptor;
import dev.berth.api.content.Status;
import dev.berth.api.content.Writer;
import dev.berth.api.internal.FaultPoints;
import dev.berth.testing.ChildJvm;

/** A writer process dies at the worst moments; the store must come back resumable or complete. */
class IngestCrashIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path root;

    @Test
    void sigkillMidWriteLeavesAnIngestThatResumesFromItsOffset() throws Exception {
        PseudoRandomBlob blob = new PseudoRandomBlob(21, 96L << 20);
        Descriptor desc = blob.descriptor();
        long fast = 40L << 20;
        try (ChildJvm child = ChildJvm.start(IngestChild.class, List.of(), "write-slowly", root.toString(), "layer", Long.toString(blob.size()),
                Long.toString(blob.seed()), Long.toString(fast))) {
            child.awaitLine("OFFSET", TIMEOUT);
            child.kill();
        }
        try (LocalContentStore store = LocalContentStore.open(root)) {
            Status status = store.status("layer");
            assertThat(status.offset()).isBetween(fast, blob.size() - 1);
            assertThat(status.total()).isEqualTo(blob.size());
            assertThat(blobFiles(root)).isEmpty();

            List<Long> opened = new CopyOnWriteArrayList<>();
            Content.copy(store, "layer", offset -> {
                opened.add(offset);
                return blob.openAt(offset);
            }, desc);

            assertThat(opened).containsExactly(status.offset());
            assertThat(store.verify(desc.digest()).size()).isEqualTo(blob.size());
            assertThat(store.listStatuses()).isEmpty();
        }
        assertEveryBlobIsComplete(root);
    }

    @Test
    void haltBetweenFsyncAndLinkLeavesACompleteResumableIngestAndNoBlob() throws Exception {
        PseudoRandomBlob blob = new PseudoRandomBlob(22, 8L << 20);
        Descriptor desc = blob.descriptor();
        try (ChildJvm child = commitAndHaltAt("content.commit-before-link", blob)) {
            assertThat(child.waitForExit(TIMEOUT)).isEqualTo(FaultPoints.HALT_STATUS);
        }
        assertThat(blobFiles(root)).isEmpty();
        try (LocalContentStore store = LocalContentStore.open(root)) {
            assertThat(store.status("layer").offset()).isEqualTo(blob.size());
            try (Writer w = store.writer("layer", desc)) {
                assertThat(w.status().offset()).isEqualTo(blob.size());
                assertThat(w.digest()).isEqualTo(desc.digest());
                w.commit(desc.size(), desc.digest());
            }
            assertThat(store.verify(desc.digest()).size()).isEqualTo(blob.size());
            assertThat(store.listStatuses()).isEmpty();
        }
        assertEveryBlobIsComplete(root);
    }

    @Test
    void haltAfterLinkLeavesAVerifiedBlobAndALeftoverIngestThatCommitCleansUp() throws Exception {
        PseudoRandomBlob blob = new PseudoRandomBlob(23, 8L << 20);
        Descriptor desc = blob.descriptor();
        try (ChildJvm child = commitAndHaltAt("content.commit-after-link", blob)) {
            assertThat(child.waitForExit(TIMEOUT)).isEqualTo(FaultPoints.HALT_STATUS);
        }
        assertThat(blobFiles(root)).hasSize(1);
        assertEveryBlobIsComplete(root);
        try (LocalContentStore store = LocalContentStore.open(root)) {
            assertThat(store.verify(desc.digest()).size()).isEqualTo(blob.size());
            assertThatThrownBy(() -> store.writer("layer", desc)).isInstanceOf(AlreadyExistsException.class);
            try (Writer w = store.writer("layer", null)) {
                assertThat(w.status().offset()).isEqualTo(blob.size());
                assertThatThrownBy(() -> w.commit(desc.size(), desc.digest())).isInstanceOf(AlreadyExistsException.class);
            }
            assertThat(store.listStatuses()).isEmpty();
            assertThat(store.verify(desc.digest()).size()).isEqualTo(blob.size());
        }
    }

    private ChildJvm commitAndHaltAt(String point, PseudoRandomBlob blob) throws Exception {
        ChildJvm child = ChildJvm.start(IngestChild.class, List.of("-D" + FaultPoints.PROPERTY + "=" + point), "commit", root.toString(),
                "layer", Long.toString(blob.size()), Long.toString(blob.seed()));
        child.awaitLine("WRITTEN", TIMEOUT);
        return child;
    }
}
