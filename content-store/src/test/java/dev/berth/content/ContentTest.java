package dev.berth.content;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.CanceledException;
import dev.berth.api.DeadlineExceededException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.MediaTypes;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import dev.berth.api.content.Writer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContentTest {
    @TempDir
    Path tmp;
    LocalContentStore store;
    final PseudoRandomBlob blob = new PseudoRandomBlob(5, 3_000_000);
    Descriptor desc;

    @BeforeEach
    void open() {
        store = LocalContentStore.open(tmp.resolve("content"));
        desc = blob.descriptor();
    }

    @AfterEach
    void close() {
        store.close();
    }

    /** Leaves an ingest holding the first {@code n} bytes of {@link #blob}. */
    void partialIngest(String ref, long n) {
        try (Writer w = store.writer(ref, desc)) {
            w.transferFrom(Channels.newChannel(blob.stream()), n);
        }
    }

    @Nested
    class OpenWriter {
        @Test
        void waitsUntilTheHolderLetsGo() throws Exception {
            Writer holder = store.writer("wait", null);
            CompletableFuture.runAsync(holder::close, CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS));
            try (Writer w = Content.openWriter(store, "wait", null, Instant.now().plusSeconds(30))) {
                assertThat(w.status().ref()).isEqualTo("wait");
            }
        }

        @Test
        void givesUpAtTheDeadlineWithTheLastUnavailableAsCause() {
            try (Writer holder = store.writer("stuck", null)) {
                assertThatThrownBy(() -> Content.openWriter(store, "stuck", null, Instant.now().plusMillis(200)))
                        .isInstanceOf(DeadlineExceededException.class)
                        .hasMessageContaining("ref stuck locked")
                        .hasCauseInstanceOf(UnavailableException.class);
            }
        }

        @Test
        void anInterruptedWaitIsCanceled() throws Exception {
            try (Writer holder = store.writer("interrupted", null)) {
                Thread.currentThread().interrupt();
                assertThatThrownBy(() -> Content.openWriter(store, "interrupted", null, Instant.now().plusSeconds(30)))
                        .isInstanceOf(CanceledException.class);
                assertThat(Thread.interrupted()).isTrue();
            }
        }

        @Test
        void alreadyStoredIsReportedAtOnce() {
            Content.copy(store, "x", blob.stream(), desc);
            assertThatThrownBy(() -> Content.openWriter(store, "y", desc, Instant.now().plusSeconds(30)))
                    .isInstanceOf(AlreadyExistsException.class);
        }
    }

    @Nested
    class Copy {
        @Test
        void copiesAndCommitsAStream() {
            Content.copy(store, "fresh", blob.stream(), desc);
            assertThat(store.verify(desc.digest()).size()).isEqualTo(blob.size());
            assertThat(store.listStatuses()).isEmpty();
        }

        @Test
        void aSeekableChannelIsPositionedPastTheStoredPart() throws IOException {
            Path file = tmp.resolve("source");
            try (InputStream in = blob.stream()) {
                Files.copy(in, file);
            }
            partialIngest("seek", 1_000_000);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                CountingChannel counting = new CountingChannel(ch);
                Content.copy(store, "seek", counting, desc);
                assertThat(counting.read.get()).isEqualTo(blob.size() - 1_000_000);
            }
            assertThat(store.verify(desc.digest()).size()).isEqualTo(blob.size());
        }

        @Test
        void aRangeSourceIsOpenedAtTheStoredOffset() {
            partialIngest("range", 2_000_000);
            List<Long> opened = new CopyOnWriteArrayList<>();
            Content.copy(store, "range", offset -> {
                opened.add(offset);
                return blob.openAt(offset);
            }, desc);
            assertThat(opened).containsExactly(2_000_000L);
            assertThat(store.verify(desc.digest()).size()).isEqualTo(blob.size());
        }

        @Test
        void aPlainStreamHasItsStoredPrefixSkipped() {
            partialIngest("stream", 1_500_000);
            Content.copy(store, "stream", blob.stream(), desc);
            assertThat(store.verify(desc.digest()).size()).isEqualTo(blob.size());
        }

        @Test
        void aBlobAlreadyStoredIsSuccessWithoutReadingTheSource() {
            Content.copy(store, "first", blob.stream(), desc);
            InputStream untouched = new InputStream() {
                @Override
                public int read() {
                    throw new AssertionError("the source must not be read");
                }
            };
            Content.copy(store, "second", untouched, desc);
            assertThat(store.list()).hasSize(1);
        }

        @Test
        void aShortSourceFailsAndKeepsWhatArrivedForALaterResume() {
            InputStream truncated = blob.stream();
            InputStream firstMillion = new InputStream() {
                long left = 1_000_000;

                @Override
                public int read() throws IOException {
                    return left-- > 0 ? truncated.read() : -1;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int n = truncated.read(b, off, (int) Math.min(len, left));
                    left -= n;
                    return n;
                }
            };
            assertThatThrownBy(() -> Content.copy(store, "short", firstMillion, desc))
                    .isInstanceOf(FailedPreconditionException.class)
                    .hasMessageContaining("ended after 1000000 of 3000000 bytes");
            assertThat(store.status("short").offset()).isEqualTo(1_000_000);
            Content.copy(store, "short", blob.stream(), desc);
            assertThat(store.verify(desc.digest()).size()).isEqualTo(blob.size());
        }

        @Test
        void resumedBytesThatDoNotBelongToTheBlobAreReplacedWhenTheSourceCanRestart() {
            PseudoRandomBlob other = new PseudoRandomBlob(99, blob.size());
            try (Writer w = store.writer("poisoned", desc)) {
                w.transferFrom(Channels.newChannel(other.stream()), 500_000);
            }
            List<Long> opened = new CopyOnWriteArrayList<>();
            Content.copy(store, "poisoned", offset -> {
                opened.add(offset);
                return blob.openAt(offset);
            }, desc);
            assertThat(opened).containsExactly(500_000L, 0L);
            assertThat(store.verify(desc.digest()).size()).isEqualTo(blob.size());
        }

        @Test
        void aSourceWithTheWrongBytesFailsAndItsIngestIsAborted() {
            PseudoRandomBlob other = new PseudoRandomBlob(98, blob.size());
            assertThatThrownBy(() -> Content.copy(store, "wrong", other.stream(), desc))
                    .isInstanceOf(FailedPreconditionException.class)
                    .hasMessageContaining("expected " + desc.digest());
            assertThatThrownBy(() -> store.status("wrong")).isInstanceOf(NotFoundException.class);
            assertThat(store.list()).isEmpty();
        }

        @Test
        void copyWaitsForAnotherWriterOfTheRef() throws Exception {
            Writer holder = store.writer("shared", desc);
            CompletableFuture<Void> copy = CompletableFuture.runAsync(() -> Content.copy(store, "shared", blob.stream(), desc));
            Thread.sleep(100);
            assertThat(copy).isNotDone();
            holder.close();
            copy.get(30, TimeUnit.SECONDS);
            assertThat(store.verify(desc.digest()).size()).isEqualTo(blob.size());
        }
    }

    @Nested
    class WholeBlobs {
        @Test
        void writeBlobThenReadBlobRoundTrips() {
            byte[] manifest = "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8);
            Descriptor d = Content.writeBlob(store, "manifest", MediaTypes.OCI_MANIFEST, manifest);
            assertThat(d).isEqualTo(Descriptor.of(MediaTypes.OCI_MANIFEST, manifest));
            assertThat(Content.readBlob(store, d)).isEqualTo(manifest);
            assertThat(Content.writeBlob(store, "manifest-again", MediaTypes.OCI_MANIFEST, manifest)).isEqualTo(d);
        }

        @Test
        void readBlobChecksTheDescriptorsSize() {
            byte[] bytes = "config".getBytes(StandardCharsets.UTF_8);
            Descriptor d = Content.writeBlob(store, "config", MediaTypes.OCI_CONFIG, bytes);
            Descriptor wrongSize = new Descriptor(d.mediaType(), d.digest(), 99);
            assertThatThrownBy(() -> Content.readBlob(store, wrongSize))
                    .isInstanceOf(FailedPreconditionException.class)
                    .hasMessageContaining("is 6 bytes, but its descriptor says 99");
        }

        @Test
        void readBlobOfAMissingBlobIsNotFound() {
            assertThatThrownBy(() -> Content.readBlob(store, Descriptor.of(MediaTypes.OCI_CONFIG, new byte[] {1})))
                    .isInstanceOf(NotFoundException.class);
        }

        @Test
        void anEmptyBlobIsStoredAndRead() {
            Descriptor d = Content.writeBlob(store, "empty", MediaTypes.OCI_EMPTY, new byte[0]);
            assertThat(d.digest()).isEqualTo(Digest.sha256(new byte[0]));
            assertThat(Content.readBlob(store, d)).isEmpty();
            assertThat(store.info(d.digest()).size()).isZero();
        }
    }

    /** A seekable channel that counts the bytes read through it. */
    static final class CountingChannel implements java.nio.channels.SeekableByteChannel {
        final FileChannel in;
        final AtomicLong read = new AtomicLong();

        CountingChannel(FileChannel in) {
            this.in = in;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int n = in.read(dst);
            if (n > 0) {
                read.addAndGet(n);
            }
            return n;
        }

        @Override
        public int write(ByteBuffer src) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long position() throws IOException {
            return in.position();
        }

        @Override
        public CountingChannel position(long p) throws IOException {
            in.position(p);
            return this;
        }

        @Override
        public long size() throws IOException {
            return in.size();
        }

        @Override
        public CountingChannel truncate(long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isOpen() {
            return in.isOpen();
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
