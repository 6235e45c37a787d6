package dev.berth.content;

import dev.berth.testing.ChildJvm;
import java.util.List;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.UnavailableException;
import dev.berth.api.content.Writer;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two JVMs on one root: a ref has one writer at a time, and a dead holder frees it. */
class CrossProcessLockIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path root;

    @Test
    void aWriterInAnotherJvmMakesTheRefUnavailableHere() throws Exception {
        try (ChildJvm child = ChildJvm.start(IngestChild.class, List.of(), "hold", root.toString(), "shared-ref");
             LocalContentStore store = LocalContentStore.open(root)) {
            child.awaitLine("HOLDING", TIMEOUT);
            assertThatThrownBy(() -> store.writer("shared-ref", null))
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining("ref shared-ref locked")
                    .hasMessageContaining("process " + child.pid());
            assertThatThrownBy(() -> store.abort("shared-ref")).isInstanceOf(UnavailableException.class);
            try (Writer other = store.writer("other-ref", null)) {
                assertThat(other.status().offset()).isZero();
            }
            child.closeStdin();
            child.awaitLine("RELEASED", TIMEOUT);
            try (Writer w = Content.openWriter(store, "shared-ref", null, Instant.now().plus(TIMEOUT))) {
                assertThat(w.status().offset()).isEqualTo(4);
            }
        }
    }

    @Test
    void aWriterHereMakesTheRefUnavailableInAnotherJvm() throws Exception {
        try (LocalContentStore store = LocalContentStore.open(root);
             Writer mine = store.writer("mine", null)) {
            mine.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            try (ChildJvm child = ChildJvm.start(IngestChild.class, List.of(), "try-writer", root.toString(), "mine")) {
                assertThat(child.awaitLine("UNAVAILABLE", TIMEOUT))
                        .contains("ref mine locked").contains("process " + ProcessHandle.current().pid());
            }
        }
    }

    @Test
    void aKilledHolderReleasesTheRefAndOpenWriterPicksItUp() throws Exception {
        try (ChildJvm child = ChildJvm.start(IngestChild.class, List.of(), "hold", root.toString(), "orphan");
             LocalContentStore store = LocalContentStore.open(root)) {
            child.awaitLine("HOLDING", TIMEOUT);
            CompletableFuture<Writer> waiting = CompletableFuture.supplyAsync(
                    () -> Content.openWriter(store, "orphan", null, Instant.now().plus(TIMEOUT)));
            assertThatThrownBy(() -> waiting.get(300, TimeUnit.MILLISECONDS))
                    .isInstanceOf(java.util.concurrent.TimeoutException.class);
            child.kill();
            try (Writer w = waiting.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                assertThat(w.status().offset()).isEqualTo(4);
            }
        }
    }
}
