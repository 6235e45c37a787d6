package dev.berth.content;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.MediaTypes;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import dev.berth.api.content.Info;
import dev.berth.api.content.ReaderAt;
import dev.berth.api.content.Status;
import dev.berth.api.content.Writer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The behaviours containerd's content store test suite checks of every store, asserted on Berth's local
 * store: writer status and times, resume in every way a client resumes, commit error states, small and
 * odd-sized blobs, reads past the end. Labels are the metadata layer's (see
 * {@code NamespacedContentConformanceTest} in core); this store refuses them.
 */
class ContentStoreConformanceTest {
    private static final Random SEEDS = new Random(0x5EED);

    @TempDir
    Path tmp;
    LocalContentStore store;

    @BeforeEach
    void open() {
        store = LocalContentStore.open(tmp.resolve("content"));
    }

    @AfterEach
    void close() throws IOException {
        store.close();
        ContentStoreInvariants.assertEveryBlobIsComplete(store.root());
    }

    static byte[] content(int size) {
        byte[] b = new byte[size];
        synchronized (SEEDS) {
            SEEDS.nextBytes(b);
        }
        return b;
    }

    static Descriptor desc(byte[] b) {
        return Descriptor.of(MediaTypes.OCI_LAYER, b);
    }

    static void writeInChunks(Writer w, byte[] b, int chunk) {
        for (int off = 0; off < b.length; off += chunk) {
            ByteBuffer buf = ByteBuffer.wrap(b, off, Math.min(chunk, b.length - off));
            while (buf.hasRemaining()) {
                w.write(buf);
            }
        }
    }

    byte[] readAll(Digest d) throws IOException {
        try (ReaderAt r = store.readerAt(new Descriptor(MediaTypes.OCI_LAYER, d, 0));
             InputStream in = r.inputStream()) {
            return in.readAllBytes();
        }
    }

    Digest put(String ref, byte[] b) {
        try (Writer w = store.writer(ref, desc(b))) {
            w.write(ByteBuffer.wrap(b));
            return w.commit(b.length, Digest.sha256(b));
        }
    }

    static void assertBetween(Instant actual, Instant from, Instant to, String what) {
        assertThat(actual).as(what).isBetween(from, to);
    }

    @Nested
    class Writers {
        enum Expectation { NONE, DIGEST_ONLY, SIZE_AND_DIGEST }

        @ParameterizedTest
        @EnumSource(Expectation.class)
        void bytesWrittenInSmallChunksCommitToTheirDigestWithCommitTimes(Expectation expectation) throws IOException {
            byte[] c = content(256);
            Digest d = Digest.sha256(c);
            Descriptor expected = switch (expectation) {
                case NONE -> null;
                case DIGEST_ONLY -> new Descriptor(MediaTypes.OCI_LAYER, d, 0);
                case SIZE_AND_DIGEST -> desc(c);
            };
            try (Writer w = store.writer("c-" + expectation, expected)) {
                writeInChunks(w, c, 32);
                Instant preCommit = Instant.now();
                Digest committed = w.commit(0, null);
                Instant postCommit = Instant.now();

                assertThat(committed).isEqualTo(d);
                assertThat(w.digest()).isEqualTo(d);
                Info info = store.info(d);
                assertThat(info.digest()).isEqualTo(d);
                assertThat(info.size()).isEqualTo(256);
                assertBetween(info.createdAt(), preCommit, postCommit, "createdAt");
                assertBetween(info.updatedAt(), preCommit, postCommit, "updatedAt");
                assertThat(info.labels()).isEmpty();
            }
            assertThat(readAll(d)).isEqualTo(c);
            assertThat(store.listStatuses()).isEmpty();
        }

        @Test
        void statusTracksOffsetTotalDigestAndTimesAfterEachWrite() {
            byte[] c = content(256);
            Instant preStart = Instant.now();
            try (Writer w = store.writer("c1", desc(c))) {
                Instant postStart = Instant.now();
                assertStatus(w, 0, 256, Digest.sha256(new byte[0]), preStart, postStart, preStart, postStart);
                int[][] steps = {{0, 64}, {64, 192}, {192, 256}};
                for (int[] step : steps) {
                    Instant preUpdate = Instant.now();
                    w.write(ByteBuffer.wrap(c, step[0], step[1] - step[0]));
                    Instant postUpdate = Instant.now();
                    assertStatus(w, step[1], 256, Digest.sha256(Arrays.copyOf(c, step[1])),
                            preStart, postStart, preUpdate, postUpdate);
                    Status onDisk = store.status("c1");
                    assertThat(onDisk.ref()).isEqualTo("c1");
                    assertThat(onDisk.total()).isEqualTo(256);
                }
                assertThat(w.status().expected()).isEqualTo(Digest.sha256(c));
                w.commit(0, null);
            }
        }

        @ParameterizedTest
        @ValueSource(ints = {0, 1, 6})
        void tinyBlobsAreStoredAndReadBack(int size) throws IOException {
            byte[] c = content(size);
            Digest d = put("tiny-" + size, c);
            assertThat(d).isEqualTo(Digest.sha256(c));
            assertThat(store.info(d).size()).isEqualTo(size);
            assertThat(readAll(d)).isEqualTo(c);
            assertThat(store.verify(d).size()).isEqualTo(size);
        }

        @Test
        void aLargeBlobWrittenInOddChunkSizesKeepsEveryByteInOrder() throws IOException {
            byte[] c = content((3 << 20) + 12_345);
            int[] chunkSizes = {1, 7, 4093, 65_537, 1_048_573, 3};
            try (Writer w = store.writer("odd-chunks", null)) {
                int off = 0;
                for (int i = 0; off < c.length; i++) {
                    int n = Math.min(chunkSizes[i % chunkSizes.length], c.length - off);
                    ByteBuffer direct = ByteBuffer.allocateDirect(n);
                    direct.put(c, off, n).flip();
                    assertThat(w.write(direct)).isEqualTo(n);
                    off += n;
                    assertThat(w.status().offset()).isEqualTo(off);
                }
                assertThat(w.commit(c.length, Digest.sha256(c))).isEqualTo(Digest.sha256(c));
            }
            assertThat(readAll(Digest.sha256(c))).isEqualTo(c);
        }
    }

    void assertStatus(Writer w, long offset, long total, Digest digest, Instant preStart, Instant postStart,
                      Instant preUpdate, Instant postUpdate) {
        Status s = w.status();
        assertThat(w.digest()).as("digest").isEqualTo(digest);
        assertThat(s.offset()).as("offset").isEqualTo(offset);
        assertThat(s.total()).as("total").isEqualTo(total);
        assertBetween(s.startedAt(), preStart, postStart, "startedAt");
        assertBetween(s.updatedAt(), preUpdate, postUpdate, "updatedAt");
    }

    @Nested
    class Resuming {
        @Test
        void aClosedWriterIsResumedWithTheSameStatusDigestAndTimes() {
            byte[] c = content(256);
            Digest firstHalf = Digest.sha256(Arrays.copyOf(c, 128));
            Instant preStart = Instant.now();
            Writer w1 = store.writer("cb", desc(c));
            Instant postStart = Instant.now();
            w1.write(ByteBuffer.wrap(c, 0, 128));
            Instant postUpdate = Instant.now();
            assertStatus(w1, 128, 256, firstHalf, preStart, postStart, postStart, postUpdate);
            w1.close();

            try (Writer w2 = store.writer("cb", desc(c))) {
                assertStatus(w2, 128, 256, firstHalf, preStart, postStart, postStart, postUpdate);
                Instant preUpdate = Instant.now();
                w2.write(ByteBuffer.wrap(c, 128, 128));
                Instant postUpdate2 = Instant.now();
                assertStatus(w2, 256, 256, Digest.sha256(c), preStart, postStart, preUpdate, postUpdate2);
                Instant preCommit = Instant.now();
                w2.commit(0, null);
                Instant postCommit = Instant.now();
                assertBetween(store.info(Digest.sha256(c)).createdAt(), preCommit, postCommit, "createdAt");
            }
        }

        @Test
        void anotherStoreInstanceOnTheSameRootResumesFromDisk() {
            byte[] c = content(5000);
            try (Writer w = store.writer("disk", desc(c))) {
                w.write(ByteBuffer.wrap(c, 0, 3000));
            }
            try (LocalContentStore other = LocalContentStore.open(store.root());
                 Writer w = other.writer("disk", desc(c))) {
                assertThat(w.status().offset()).isEqualTo(3000);
                assertThat(w.digest()).isEqualTo(Digest.sha256(Arrays.copyOf(c, 3000)));
                w.write(ByteBuffer.wrap(c, 3000, 2000));
                assertThat(w.commit(5000, Digest.sha256(c))).isEqualTo(Digest.sha256(c));
            }
        }

        enum Way { CONTINUE_WRITING, TRUNCATE_AND_REWRITE, COPY_PLAIN_STREAM, COPY_SEEKABLE_CHANNEL, COPY_RANGE_SOURCE }

        static Stream<Arguments> cases() {
            List<Arguments> out = new ArrayList<>();
            for (Way way : Way.values()) {
                for (int size : new int[] {500, 5000, 50_000}) {
                    for (double fraction : new double[] {0.0, 0.1, 0.5, 0.9, 1.0}) {
                        out.add(Arguments.of(way, size, fraction));
                    }
                }
            }
            return out.stream();
        }

        @ParameterizedTest(name = "{0} size={1} written={2}")
        @MethodSource("cases")
        void anIngestClosedPartWayIsResumedAtItsOffsetAndCommits(Way way, int size, double fraction)
                throws IOException {
            byte[] b = content(size);
            Descriptor d = desc(b);
            int limit = (int) (size * fraction);
            String ref = "ref-" + way + "-" + size + "-" + limit;
            try (Writer w = store.writer(ref, d)) {
                w.write(ByteBuffer.wrap(b, 0, limit));
            }
            Instant preCommit;
            switch (way) {
                case CONTINUE_WRITING, TRUNCATE_AND_REWRITE -> {
                    try (Writer w = store.writer(ref, d)) {
                        assertThat(w.status().offset()).isEqualTo(limit);
                        int from = limit;
                        if (way == Way.TRUNCATE_AND_REWRITE) {
                            w.truncate(0);
                            assertThat(w.status().offset()).isZero();
                            assertThat(w.digest()).isEqualTo(Digest.sha256(new byte[0]));
                            from = 0;
                        }
                        writeInChunks(w, Arrays.copyOfRange(b, from, size), 1024);
                        preCommit = Instant.now();
                        w.commit(size, d.digest());
                    }
                }
                case COPY_PLAIN_STREAM -> {
                    preCommit = Instant.now();
                    Content.copy(store, ref, new ByteArrayInputStream(b), d);
                }
                case COPY_SEEKABLE_CHANNEL -> {
                    Path source = tmp.resolve("source-" + size);
                    Files.write(source, b);
                    preCommit = Instant.now();
                    try (SeekableByteChannel ch = Files.newByteChannel(source, StandardOpenOption.READ)) {
                        Content.copy(store, ref, ch, d);
                    }
                }
                case COPY_RANGE_SOURCE -> {
                    long[] openedAt = {-1};
                    preCommit = Instant.now();
                    Content.copy(store, ref, offset -> {
                        openedAt[0] = offset;
                        return new ByteArrayInputStream(b, (int) offset, size - (int) offset);
                    }, d);
                    assertThat(openedAt[0]).as("range opened at the stored offset").isIn(-1L, (long) limit);
                }
                default -> throw new IllegalStateException();
            }
            Instant postCommit = Instant.now();
            Info info = store.info(d.digest());
            assertThat(info.size()).isEqualTo(size);
            assertBetween(info.createdAt(), preCommit, postCommit, "createdAt");
            assertThat(readAll(d.digest())).isEqualTo(b);
            assertThatThrownBy(() -> store.status(ref)).isInstanceOf(NotFoundException.class);
        }
    }

    @Nested
    class CommitErrors {
        @ParameterizedTest(name = "expected digest given: {0}")
        @ValueSource(booleans = {true, false})
        void committingBytesAlreadyStoredIsAlreadyExistsAndRemovesTheIngest(boolean giveDigest) {
            byte[] c1 = content(256);
            put("c1", c1);
            String ref = "c1-commitexists-" + giveDigest;
            Writer w = store.writer(ref, null);
            w.write(ByteBuffer.wrap(c1));
            assertThatThrownBy(() -> w.commit(c1.length, giveDigest ? Digest.sha256(c1) : null))
                    .isInstanceOf(AlreadyExistsException.class);
            w.close();
            assertThat(w.isOpen()).isFalse();
            assertThatThrownBy(() -> store.status(ref)).isInstanceOf(NotFoundException.class);
            try (Writer again = store.writer(ref, null)) {
                assertThat(again.status().offset()).as("a fresh ingest").isZero();
            }
        }

        @Test
        void aRefIsUnavailableWhileAWriterHoldsItAndFreeOnceItCloses() {
            Writer w = store.writer("held", null);
            w.write(ByteBuffer.wrap(content(10)));
            assertThatThrownBy(() -> store.writer("held", null)).isInstanceOf(UnavailableException.class);
            assertThatThrownBy(() -> store.abort("held")).isInstanceOf(UnavailableException.class);
            w.close();
            w.close(); // idempotent
            try (Writer again = store.writer("held", null)) {
                assertThat(again.status().offset()).isEqualTo(10);
            }
        }

        @Test
        void aWrongDigestClosesTheWriterAndKeepsTheIngestForAResume() {
            byte[] c1 = content(256);
            byte[] more = Arrays.copyOf(c1, 260);
            System.arraycopy("more".getBytes(), 0, more, 256, 4);
            Digest wrong = Digest.sha256(content(256));
            String ref = "c1-commiterror-state";
            Writer w = store.writer(ref, null);
            w.write(ByteBuffer.wrap(more));
            assertThatThrownBy(() -> store.writer(ref, null)).isInstanceOf(UnavailableException.class);

            assertThatThrownBy(() -> w.commit(260, wrong)).isInstanceOf(FailedPreconditionException.class)
                    .hasMessageContaining(wrong.toString()).hasMessageContaining(Digest.sha256(more).toString());
            assertThat(w.isOpen()).isFalse();
            assertThatThrownBy(() -> w.write(ByteBuffer.wrap(new byte[1])))
                    .isInstanceOf(FailedPreconditionException.class);
            w.close();
            assertThat(store.status(ref).offset()).isEqualTo(260);

            Writer w2 = store.writer(ref, null);
            assertThatThrownBy(() -> store.writer(ref, null)).isInstanceOf(UnavailableException.class);
            assertThat(w2.status().offset()).isEqualTo(260);
            assertThatThrownBy(() -> w2.commit(256, null)).isInstanceOf(FailedPreconditionException.class)
                    .hasMessageContaining("unexpected commit size");
            w2.close();

            try (Writer w3 = store.writer(ref, null)) {
                assertThat(w3.commit(260, null)).isEqualTo(Digest.sha256(more));
            }
            assertThatThrownBy(() -> store.status(ref)).isInstanceOf(NotFoundException.class);
        }

        @Test
        void aWriterWhoseCommitFailedCanStillBeAborted() {
            Writer w = store.writer("doomed", null);
            w.write(ByteBuffer.wrap(content(100)));
            assertThatThrownBy(() -> w.commit(99, null)).isInstanceOf(FailedPreconditionException.class);
            store.abort("doomed");
            assertThatThrownBy(() -> store.status("doomed")).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> store.abort("doomed")).isInstanceOf(NotFoundException.class);
        }

        @Test
        void committingTwiceFailsWithFailedPrecondition() {
            byte[] c = content(10);
            Writer w = store.writer("twice", null);
            w.write(ByteBuffer.wrap(c));
            w.commit(10, null);
            assertThatThrownBy(() -> w.commit(10, null)).isInstanceOf(FailedPreconditionException.class);
        }
    }

    @Nested
    class Reading {
        @Test
        void readsPastTheEndReturnOnlyWhatIsThere() throws IOException {
            byte[] blob = "foobar".getBytes();
            Digest d = put("small", blob);
            try (ReaderAt r = store.readerAt(desc(blob))) {
                assertThat(r.size()).isEqualTo(6);
                ByteBuffer dst = ByteBuffer.allocate(7);
                assertThat(r.read(dst, 0)).isEqualTo(6);
                assertThat(Arrays.copyOf(dst.array(), 6)).isEqualTo(blob);
                assertThat(r.read(ByteBuffer.allocate(4), 4)).isEqualTo(2);
                assertThat(r.read(ByteBuffer.allocate(4), 6)).as("at the end").isEqualTo(-1);
                assertThat(r.read(ByteBuffer.allocate(4), 1000)).as("far past the end").isEqualTo(-1);
                assertThat(r.inputStream(6).read()).isEqualTo(-1);
                assertThat(r.inputStream(3).readAllBytes()).isEqualTo("bar".getBytes());
            }
            assertThat(Digest.sha256(readAll(d))).isEqualTo(d);
        }

        @Test
        void randomAccessReadsMatchTheBytesAtEveryPosition() {
            byte[] c = content(200_000);
            put("random", c);
            Random rnd = new Random(42);
            try (ReaderAt r = store.readerAt(desc(c))) {
                for (int i = 0; i < 200; i++) {
                    int pos = rnd.nextInt(c.length + 100);
                    int len = 1 + rnd.nextInt(5000);
                    ByteBuffer dst = ByteBuffer.allocate(len);
                    int n = r.read(dst, pos);
                    int expected = Math.min(len, c.length - pos);
                    if (expected <= 0) {
                        assertThat(n).isEqualTo(-1);
                    } else {
                        assertThat(n).isEqualTo(expected);
                        assertThat(Arrays.copyOf(dst.array(), n)).isEqualTo(Arrays.copyOfRange(c, pos, pos + n));
                    }
                }
            }
        }

        @Test
        void aReaderKeepsReadingABlobDeletedAfterItOpened() throws IOException {
            byte[] c = content(1000);
            Digest d = put("deleted-while-read", c);
            try (ReaderAt r = store.readerAt(desc(c))) {
                store.delete(d);
                assertThat(r.inputStream().readAllBytes()).isEqualTo(c);
            }
            assertThatThrownBy(() -> store.readerAt(desc(c))).isInstanceOf(NotFoundException.class);
        }
    }

    @Nested
    class Managing {
        @Test
        void walkFiltersWithTheFilterGrammar() {
            byte[] a = content(10);
            byte[] b = content(20);
            byte[] c = content(30);
            Digest da = put("a", a);
            Digest db = put("b", b);
            Digest dc = put("c", c);
            assertThat(digests()).containsExactlyInAnyOrder(da, db, dc);
            assertThat(digests("digest==" + db)).containsExactly(db);
            assertThat(digests("digest~=" + da.hex().substring(0, 12))).containsExactly(da);
            assertThat(digests("digest~=^sha256:")).hasSize(3);
            assertThat(digests("size==20")).containsExactly(db);
            assertThat(digests("size!=20")).containsExactlyInAnyOrder(da, dc);
            assertThat(digests("size==10", "size==30")).as("filter strings are ORed")
                    .containsExactlyInAnyOrder(da, dc);
            assertThat(digests("size==10,digest==" + db)).as("selectors are ANDed").isEmpty();
            assertThat(digests("digest")).as("presence").hasSize(3);
            assertThat(digests("labels.x==y")).as("this store keeps no labels").isEmpty();
            assertThatThrownBy(() -> digests("size==")).isInstanceOf(InvalidArgumentException.class);
        }

        List<Digest> digests(String... filters) {
            List<Digest> out = new ArrayList<>();
            store.walk(i -> out.add(i.digest()), filters);
            return out;
        }

        @Test
        void missingBlobsAreNotFoundEverywhere() {
            Digest missing = Digest.sha256("missing".getBytes());
            assertThatThrownBy(() -> store.info(missing)).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> store.delete(missing)).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> store.verify(missing)).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> store.readerAt(new Descriptor(MediaTypes.OCI_LAYER, missing, 7)))
                    .isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> store.status("no-such-ref")).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> store.abort("no-such-ref")).isInstanceOf(NotFoundException.class);
        }

        @Test
        void abortDropsTheIngestSoTheNextWriterStartsFresh() {
            try (Writer w = store.writer("aborted", null)) {
                w.write(ByteBuffer.wrap(content(50)));
            }
            assertThat(store.listStatuses("ref==aborted")).hasSize(1);
            store.abort("aborted");
            assertThat(store.listStatuses()).isEmpty();
            try (Writer w = store.writer("aborted", null)) {
                assertThat(w.status().offset()).isZero();
                assertThat(w.digest()).isEqualTo(Digest.sha256(new byte[0]));
            }
        }

        @Test
        void deleteRemovesTheBlobFromInfoWalkAndDisk() {
            byte[] c = content(64);
            Digest d = put("del", c);
            store.delete(d);
            assertThatThrownBy(() -> store.info(d)).isInstanceOf(NotFoundException.class);
            assertThat(store.list()).isEmpty();
            assertThat(store.root().resolve("blobs/sha256").resolve(d.hex())).doesNotExist();
        }

        @Test
        void listStatusesFiltersOnRefWithEveryOperator() {
            for (String ref : List.of("layer-1", "layer-2", "config")) {
                try (Writer w = store.writer(ref, null)) {
                    w.write(ByteBuffer.wrap(content(5)));
                }
            }
            assertThat(store.listStatuses().stream().map(Status::ref)).containsExactly("config", "layer-1", "layer-2");
            assertThat(store.listStatuses("ref~=^layer-").stream().map(Status::ref))
                    .containsExactly("layer-1", "layer-2");
            assertThat(store.listStatuses("ref!=config").stream().map(Status::ref))
                    .containsExactly("layer-1", "layer-2");
            assertThat(store.listStatuses("ref==config").get(0).offset()).isEqualTo(5);
        }
    }
}
