package dev.berth.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.berth.api.Descriptor;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.MediaTypes;
import dev.berth.content.Content;
import dev.berth.content.LocalContentStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tee between a blob's download and an unpack, against a real content store. */
class BlobTeeTest {
    @TempDir
    Path tmp;

    private LocalContentStore store;

    @BeforeEach
    void open() {
        store = LocalContentStore.open(tmp.resolve("content"));
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static byte[] noise(int size) {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return b;
    }

    /** Stores {@code bytes} as the download would have, returning its descriptor. */
    private Descriptor commit(byte[] bytes) {
        return Content.writeBlob(store, "test-" + bytes.length, MediaTypes.OCI_LAYER_GZIP, bytes);
    }

    private static Descriptor describe(byte[] bytes) {
        return new Descriptor(MediaTypes.OCI_LAYER_GZIP, dev.berth.api.Digest.sha256(bytes), bytes.length);
    }

    private static void feed(BlobTee tee, byte[] bytes, int from, int to) {
        for (int at = from; at < to; at += 64 << 10) {
            tee.wrote(at, bytes, at, Math.min(64 << 10, to - at));
        }
    }

    @Test
    void theReaderGetsTheEndOnlyOnceTheBlobIsCommitted() throws Exception {
        byte[] blob = noise(300_000);
        Descriptor desc = describe(blob);
        BlobTee tee = new BlobTee(store, desc);
        InputStream in = tee.attach();
        assertThat(tee.attach()).as("a second reader").isNull();
        feed(tee, blob, 0, blob.length);

        CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
            try (in) {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !read.isDone());
        commit(blob);
        tee.committed();

        assertThat(read.get()).isEqualTo(blob);
    }

    @Test
    void aReaderThatFallsBehindContinuesInTheCommittedBlob() throws Exception {
        byte[] blob = noise((int) BlobTee.CAPACITY + (3 << 20));
        Descriptor desc = describe(blob);
        BlobTee tee = new BlobTee(store, desc);
        InputStream in = tee.attach();
        byte[] first = in.readNBytes(0); // attached, but not reading: the download must not wait for long
        assertThat(first).isEmpty();

        long t0 = System.nanoTime();
        feed(tee, blob, 0, blob.length); // returns once the tee gave up waiting for room
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));
        commit(blob);
        tee.committed();

        try (in) {
            assertThat(Arrays.equals(in.readAllBytes(), blob)).as("the whole blob, in order").isTrue();
        }
    }

    @Test
    void bytesWrittenAgainAfterTheyWereHandedOverFailTheReader() throws Exception {
        byte[] blob = noise(200_000);
        BlobTee tee = new BlobTee(store, describe(blob));
        InputStream in = tee.attach();
        feed(tee, blob, 0, 100_000);
        assertThat(in.readNBytes(100_000)).isEqualTo(Arrays.copyOf(blob, 100_000));

        tee.rewound(0); // the resumed ingest did not verify: the download starts over

        assertThatThrownBy(in::read).isInstanceOf(IOException.class).hasMessageContaining("started over")
                .hasMessageContaining(describe(blob).digest().toString());
    }

    @Test
    void aFailedDownloadIsWhatTheReaderGets() throws Exception {
        byte[] blob = noise(200_000);
        BlobTee tee = new BlobTee(store, describe(blob));
        InputStream in = tee.attach();
        feed(tee, blob, 0, 100_000);

        tee.failed(new FailedPreconditionException("content hashes to something else"));

        assertThatThrownBy(in::readAllBytes).isInstanceOf(IOException.class)
                .hasMessageContaining(describe(blob).digest().toString())
                .hasRootCauseInstanceOf(FailedPreconditionException.class);
    }

    @Test
    void aReaderThatComesAfterTheBufferFilledGetsTheHeadFromItAndTheRestFromTheStore() throws Exception {
        byte[] blob = noise((int) BlobTee.CAPACITY + (1 << 20));
        Descriptor desc = describe(blob);
        BlobTee tee = new BlobTee(store, desc);
        feed(tee, blob, 0, blob.length); // nobody reads yet: buffering stops at the capacity, without waiting

        InputStream in = tee.attach();
        assertThat(in).isNotNull();
        assertThat(in.readNBytes(1000)).isEqualTo(Arrays.copyOf(blob, 1000));
        commit(blob);
        tee.committed();
        try (in) {
            assertThat(Arrays.equals(in.readAllBytes(), Arrays.copyOfRange(blob, 1000, blob.length))).isTrue();
        }
    }

    @Test
    void aBlobCommittedOrResumedBeforeAnyReaderIsLeftToTheStore() {
        byte[] blob = noise(200_000);
        BlobTee committed = new BlobTee(store, describe(blob));
        feed(committed, blob, 0, blob.length);
        committed.committed();
        assertThat(committed.attach()).isNull();

        BlobTee resumed = new BlobTee(store, describe(blob));
        feed(resumed, blob, 50_000, blob.length); // the ingest held the first bytes already
        assertThat(resumed.attach()).isNull();
    }
}
