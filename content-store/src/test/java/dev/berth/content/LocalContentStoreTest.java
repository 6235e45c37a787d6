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
import dev.berth.api.NotImplementedException;
import dev.berth.api.UnavailableException;
import dev.berth.api.content.Info;
import dev.berth.api.content.ReaderAt;
import dev.berth.api.content.Status;
import dev.berth.api.content.Writer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LocalContentStoreTest {
    @TempDir
    Path tmp;
    Path root;
    LocalContentStore store;

    @BeforeEach
    void open() {
        root = tmp.resolve("content");
        store = LocalContentStore.open(root);
    }

    @AfterEach
    void close() {
        store.close();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Descriptor descriptorOf(byte[] bytes) {
        return Descriptor.of(MediaTypes.OCI_CONFIG, bytes);
    }

    Digest put(String ref, byte[] bytes) {
        try (Writer w = store.writer(ref, descriptorOf(bytes))) {
            w.write(ByteBuffer.wrap(bytes));
            return w.commit(bytes.length, Digest.sha256(bytes));
        }
    }

    Path ingestDirOf(String ref) {
        return root.resolve("ingest").resolve(IngestDir.nameOf(ref));
    }

    static List<Path> filesUnder(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Nested
    class Writing {
        @Test
        void emptyOrNullRefIsInvalid() {
            assertThatThrownBy(() -> store.writer("", null))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("ref must not be empty");
            assertThatThrownBy(() -> store.writer(null, null)).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> store.status("")).isInstanceOf(InvalidArgumentException.class);
        }

        @Test
        void refWithSlashesAndDotsIsHashedIntoOneDirectoryInsideTheStore() throws IOException {
            String ref = "../../../escape/../..//x/..";
            byte[] bytes = utf8("payload");
            try (Writer w = store.writer(ref, null)) {
                w.write(ByteBuffer.wrap(bytes));
            }
            try (Stream<Path> ingests = Files.list(root.resolve("ingest"))) {
                assertThat(ingests.toList()).containsExactly(ingestDirOf(ref));
            }
            assertThat(ingestDirOf(ref).getFileName().toString()).matches("[0-9a-f]{64}");
            assertThat(Files.readString(ingestDirOf(ref).resolve("ref"))).isEqualTo(ref);
            try (Stream<Path> outside = Files.list(tmp)) {
                assertThat(outside.toList()).containsExactly(root);
            }
            assertThat(store.status(ref).offset()).isEqualTo(bytes.length);
            try (Writer w = store.writer(ref, null)) {
                assertThat(w.commit(bytes.length, Digest.sha256(bytes))).isEqualTo(Digest.sha256(bytes));
            }
        }

        @Test
        void ingestDirectoryHasContainerdsFiles() throws IOException {
            byte[] bytes = utf8("0123456789");
            try (Writer w = store.writer("layout", descriptorOf(bytes))) {
                w.write(ByteBuffer.wrap(bytes, 0, 4));
            }
            Path dir = ingestDirOf("layout");
            try (Stream<Path> files = Files.list(dir)) {
                assertThat(files.map(p -> p.getFileName().toString()))
                        .containsExactlyInAnyOrder("data", "ref", "total", "startedat", "updatedat");
            }
            assertThat(Files.readString(dir.resolve("ref"))).isEqualTo("layout");
            assertThat(Files.readString(dir.resolve("total"))).isEqualTo("10");
            assertThat(Files.size(dir.resolve("data"))).isEqualTo(4);
            for (String stamp : List.of("startedat", "updatedat")) {
                assertThat(Files.readString(dir.resolve(stamp)))
                        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{0,8}[1-9])?Z");
            }
        }

        @Test
        void totalFileIsAbsentWhenSizeIsUnknown() {
            try (Writer w = store.writer("unknown-size", null)) {
                w.write(ByteBuffer.wrap(utf8("x")));
            }
            assertThat(ingestDirOf("unknown-size").resolve("total")).doesNotExist();
            assertThat(store.status("unknown-size").total()).isZero();
        }

        @Test
        void expectedDigestAlreadyStoredFailsBeforeAnythingIsWritten() {
            byte[] bytes = utf8("stored once");
            put("first", bytes);
            assertThatThrownBy(() -> store.writer("second", descriptorOf(bytes)))
                    .isInstanceOf(AlreadyExistsException.class)
                    .hasMessageContaining(Digest.sha256(bytes).toString());
            assertThat(ingestDirOf("second")).doesNotExist();
            assertThat(store.listStatuses()).isEmpty();
        }

        @Test
        void secondWriterOnARefIsUnavailableUntilTheFirstCloses() throws Exception {
            try (Writer first = store.writer("busy", null)) {
                first.write(ByteBuffer.wrap(utf8("a")));
                assertThatThrownBy(() -> store.writer("busy", null))
                        .isInstanceOf(UnavailableException.class)
                        .hasMessageContaining("ref busy locked")
                        .hasMessageContaining("of this process");
                Throwable fromOtherThread = CompletableFuture.supplyAsync(() -> {
                    try {
                        store.writer("busy", null).close();
                        return null;
                    } catch (RuntimeException e) {
                        return e;
                    }
                }).get();
                assertThat(fromOtherThread).isInstanceOf(UnavailableException.class);
                try (LocalContentStore second = LocalContentStore.open(root)) {
                    assertThatThrownBy(() -> second.writer("busy", null)).isInstanceOf(UnavailableException.class);
                }
            }
            try (Writer again = store.writer("busy", null)) {
                assertThat(again.status().offset()).isEqualTo(1);
            }
        }

        @Test
        void outputStreamAndTransferFromAppendAndHash() throws IOException {
            byte[] a = utf8("from a stream, ");
            byte[] b = utf8("then from a channel");
            try (Writer w = store.writer("mixed", null)) {
                try (OutputStream out = w.asOutputStream()) {
                    out.write(a);
                }
                assertThat(w.isOpen()).isTrue();
                long n = w.transferFrom(Channels.newChannel(new java.io.ByteArrayInputStream(b)), 1000);
                assertThat(n).isEqualTo(b.length);
                byte[] all = utf8("from a stream, then from a channel");
                assertThat(w.digest()).isEqualTo(Digest.sha256(all));
                assertThat(w.status().offset()).isEqualTo(all.length);
            }
        }

        /**
         * From a file the kernel copies and the data file is hashed back; with the file copy off it is read ahead.
         * Either way the write-back of every 4 MiB step starts as it is written (or not, with that switch off).
         * Byte-exact on every way.
         */
        @ParameterizedTest(name = "file copy {0}, early write-back {1}")
        @org.junit.jupiter.params.provider.CsvSource({"true,true", "true,inline", "true,false", "false,true", "false,false"})
        void largeTransfersFromAFileNeverGoPastMaxBytes(String fileCopy, String earlyWriteBack) throws IOException {
            Path source = tmp.resolve("source");
            PseudoRandomBlob blob = new PseudoRandomBlob(2, 30L << 20);
            try (InputStream in = blob.stream()) {
                Files.copy(in, source);
            }
            long max = (20L << 20) + 5;
            System.setProperty(LocalWriter.FILE_COPY_PROPERTY, fileCopy);
            System.setProperty(EarlyWriteBack.PROPERTY, earlyWriteBack);
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(source);
                 Writer w = store.writer("read-ahead", null)) {
                assertThat(w.transferFrom(ch, max)).isEqualTo(max);
                assertThat(ch.position()).isEqualTo(max);
                assertThat(w.status().offset()).isEqualTo(max);
                assertThat(w.transferFrom(ch, Long.MAX_VALUE)).isEqualTo(blob.size() - max);
                assertThat(ch.position()).isEqualTo(blob.size());
                assertThat(w.commit(blob.size(), blob.digest(Digest.SHA256))).isEqualTo(blob.digest(Digest.SHA256));
                // 30 MiB in steps of at least 4 MiB, each handed to the kernel's write-back by commit's end
                int started = ((LocalWriter) w).writeBacksStarted.get();
                if ("false".equals(earlyWriteBack)) {
                    assertThat(started).isZero();
                } else {
                    assertThat(started).isBetween(4, 7);
                }
            } finally {
                System.clearProperty(LocalWriter.FILE_COPY_PROPERTY);
                System.clearProperty(EarlyWriteBack.PROPERTY);
            }
            try (ReaderAt r = store.readerAt(new Descriptor("application/octet-stream", blob.digest(Digest.SHA256),
                    blob.size()));
                 InputStream stored = r.inputStream()) {
                assertThat(Digest.sha256(stored.readAllBytes())).isEqualTo(blob.digest(Digest.SHA256));
            }
        }

        @Test
        void smallWritesOfALargeBlobStartItsWriteBackInStepsAndStayByteExact() throws IOException {
            // as an import or a pull writes: 64 KiB at a time through write()
            PseudoRandomBlob blob = new PseudoRandomBlob(6, (13L << 20) + 17);
            byte[] all;
            try (InputStream in = blob.stream()) {
                all = in.readAllBytes();
            }
            try (Writer w = store.writer("small-writes", null)) {
                for (int at = 0; at < all.length; at += 65536) {
                    w.write(java.nio.ByteBuffer.wrap(all, at, Math.min(65536, all.length - at)));
                }
                assertThat(w.commit(all.length, Digest.sha256(all))).isEqualTo(Digest.sha256(all));
                assertThat(((LocalWriter) w).writeBacksStarted.get()).isEqualTo(3); // 0-4, 4-8, 8-12 MiB
            }
            try (ReaderAt r = store.readerAt(new Descriptor("application/octet-stream", Digest.sha256(all), all.length));
                 InputStream stored = r.inputStream()) {
                assertThat(stored.readAllBytes()).isEqualTo(all);
            }
        }

        @Test
        void aFileCopiedFromTheMiddleAfterBytesWrittenOtherwiseAppendsAndHashesInOrder() throws IOException {
            Path source = tmp.resolve("source");
            PseudoRandomBlob blob = new PseudoRandomBlob(3, (9L << 20) + 3);
            try (InputStream in = blob.stream()) {
                Files.copy(in, source);
            }
            byte[] all = Files.readAllBytes(source);
            byte[] head = java.util.Arrays.copyOf(all, 1000);
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(source);
                 Writer w = store.writer("middle", null)) {
                w.write(java.nio.ByteBuffer.wrap(head));
                ch.position(1000);
                assertThat(w.transferFrom(ch, Long.MAX_VALUE)).isEqualTo(all.length - 1000);
                assertThat(w.status().offset()).isEqualTo(all.length);
                assertThat(w.digest()).isEqualTo(Digest.sha256(all));
            }
        }

        @Test
        void aFileThatReportsNoSizeIsReadToItsEnd() throws IOException {
            // /proc files report size 0 whatever they hold; the kernel copy would stop at the size
            Path cmdline = Path.of("/proc/self/cmdline");
            byte[] expected = Files.readAllBytes(cmdline);
            assertThat(expected).isNotEmpty();
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(cmdline);
                 Writer w = store.writer("proc", null)) {
                assertThat(ch.size()).isZero();
                assertThat(w.transferFrom(ch, Long.MAX_VALUE)).isEqualTo(expected.length);
                assertThat(w.digest()).isEqualTo(Digest.sha256(expected));
            }
        }

        @Test
        void aFileChannelOverAPipeIsReadAheadLikeAnyStream() throws Exception {
            Path fifo = tmp.resolve("fifo");
            assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
            PseudoRandomBlob blob = new PseudoRandomBlob(5, 12L << 20);
            var feeding = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try (OutputStream out = Files.newOutputStream(fifo); InputStream in = blob.stream()) {
                    in.transferTo(out);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(fifo);
                 Writer w = store.writer("piped", null)) {
                assertThat(w.transferFrom(ch, Long.MAX_VALUE)).isEqualTo(blob.size());
                assertThat(w.commit(blob.size(), blob.digest(Digest.SHA256))).isEqualTo(blob.digest(Digest.SHA256));
            }
            feeding.join();
        }

        @ParameterizedTest(name = "failing at {0} bytes")
        @ValueSource(longs = {777, (12L << 20) + 777})
        void aSourceThatFailsMidTransferKeepsTheBytesBeforeTheFailure(long failAt) {
            PseudoRandomBlob blob = new PseudoRandomBlob(4, 20L << 20);
            InputStream good = blob.stream();
            InputStream failing = new InputStream() {
                long pos;

                @Override
                public int read() throws IOException {
                    throw new IOException("single bytes not expected");
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (pos >= failAt) {
                        throw new IOException("connection reset");
                    }
                    int n = good.read(b, off, (int) Math.min(len, failAt - pos));
                    pos += n;
                    return n;
                }
            };
            try (Writer w = store.writer("flaky", null)) {
                long max = failAt < 1000 ? 1 << 20 : Long.MAX_VALUE; // small transfers take the inline path
                assertThatThrownBy(() -> w.transferFrom(Channels.newChannel(failing), max))
                        .isInstanceOf(dev.berth.api.IoFailureException.class)
                        .hasMessageContaining("ingest flaky")
                        .hasRootCauseMessage("connection reset");
                assertThat(w.status().offset()).isEqualTo(failAt);
                w.transferFrom(Channels.newChannel(blob.openAt(failAt)), Long.MAX_VALUE);
                assertThat(w.commit(blob.size(), blob.digest(Digest.SHA256))).isEqualTo(blob.digest(Digest.SHA256));
            }
        }

        @Test
        void transferFromStopsAtMaxBytes() {
            try (Writer w = store.writer("bounded", null)) {
                long n = w.transferFrom(Channels.newChannel(new PseudoRandomBlob(1, 100_000).stream()), 70_000);
                assertThat(n).isEqualTo(70_000);
                assertThat(w.status().offset()).isEqualTo(70_000);
            }
        }
    }

    @Nested
    class Committing {
        @Test
        void commitPublishesAReadOnlyBlobAndRemovesTheIngest() throws IOException {
            byte[] bytes = utf8("committed");
            Instant before = Instant.now().minusSeconds(1);
            Digest digest = put("c", bytes);
            Path blob = root.resolve("blobs/sha256").resolve(digest.hex());
            assertThat(blob).hasBinaryContent(bytes);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(blob))).isEqualTo("r--r--r--");
            assertThat(ingestDirOf("c")).doesNotExist();
            assertThat(filesUnder(root.resolve("locks"))).isEmpty();
            Info info = store.info(digest);
            assertThat(info.size()).isEqualTo(bytes.length);
            assertThat(info.createdAt()).isAfter(before).isEqualTo(Files.getLastModifiedTime(blob).toInstant());
            assertThat(info.labels()).isEmpty();
        }

        @Test
        void wrongSizeIsRejectedAndTheIngestKept() {
            Writer w = store.writer("size", null);
            w.write(ByteBuffer.wrap(utf8("12345")));
            assertThatThrownBy(() -> w.commit(6, null))
                    .isInstanceOf(FailedPreconditionException.class)
                    .hasMessageContaining("unexpected commit size 5, expected 6");
            assertThat(w.isOpen()).isFalse();
            assertThatThrownBy(() -> w.write(ByteBuffer.wrap(utf8("6")))).isInstanceOf(FailedPreconditionException.class);
            assertThat(store.status("size").offset()).isEqualTo(5);
            assertThat(root.resolve("blobs")).satisfies(b -> assertThat(filesUnder(b)).isEmpty());
        }

        @Test
        void wrongDigestIsRejectedNamingBothDigests() throws IOException {
            byte[] bytes = utf8("actual");
            Digest claimed = Digest.sha256(utf8("claimed"));
            try (Writer w = store.writer("digest", null)) {
                w.write(ByteBuffer.wrap(bytes));
                assertThatThrownBy(() -> w.commit(bytes.length, claimed))
                        .isInstanceOf(FailedPreconditionException.class)
                        .hasMessageContaining("unexpected commit digest " + Digest.sha256(bytes))
                        .hasMessageContaining("expected " + claimed);
            }
            assertThat(filesUnder(root.resolve("blobs"))).isEmpty();
            assertThat(store.status("digest").offset()).isEqualTo(bytes.length);
        }

        @Test
        void commitOnAClosedWriterFails() {
            Writer w = store.writer("closed", null);
            w.close();
            w.close();
            assertThatThrownBy(() -> w.commit(0, null))
                    .isInstanceOf(FailedPreconditionException.class).hasMessageContaining("closed");
        }

        @Test
        void labelsAreNotKeptByThisStore() {
            byte[] bytes = utf8("labelled");
            Writer w = store.writer("labels", null);
            w.write(ByteBuffer.wrap(bytes));
            assertThatThrownBy(() -> w.commit(bytes.length, null, Map.of("a", "b")))
                    .isInstanceOf(NotImplementedException.class).hasMessageContaining("labels");
            assertThat(store.status("labels").offset()).isEqualTo(bytes.length);
            Digest d = put("other", bytes);
            assertThatThrownBy(() -> store.update(store.info(d).withLabels(Map.of("a", "b"))))
                    .isInstanceOf(NotImplementedException.class);
        }

        @Test
        void blobCommittedMeanwhileByAnotherWriterIsAlreadyExistsAndTheIngestIsRemoved() throws IOException {
            byte[] bytes = utf8("raced");
            Writer slow = store.writer("slow", null);
            slow.write(ByteBuffer.wrap(bytes));
            Digest digest = put("fast", bytes);
            assertThatThrownBy(() -> slow.commit(bytes.length, digest))
                    .isInstanceOf(AlreadyExistsException.class).hasMessageContaining(digest.toString());
            assertThat(ingestDirOf("slow")).doesNotExist();
            assertThat(store.verify(digest).size()).isEqualTo(bytes.length);
            assertThat(filesUnder(root.resolve("locks"))).isEmpty();
        }

        @Test
        void sha512BlobsLiveUnderTheirOwnAlgorithm() {
            byte[] bytes = utf8("sha512 content");
            Descriptor desc = new Descriptor(MediaTypes.OCI_CONFIG, Digest.sha512(bytes), bytes.length);
            try (Writer w = store.writer("sha512", desc)) {
                w.write(ByteBuffer.wrap(bytes));
                assertThat(w.digest().algorithm()).isEqualTo("sha512");
                assertThat(w.commit(bytes.length, desc.digest())).isEqualTo(desc.digest());
            }
            assertThat(root.resolve("blobs/sha512").resolve(desc.digest().hex())).hasBinaryContent(bytes);
            assertThat(store.verify(desc.digest()).size()).isEqualTo(bytes.length);
            assertThat(Content.readBlob(store, desc)).isEqualTo(bytes);
            assertThatThrownBy(() -> store.writer("again", desc)).isInstanceOf(AlreadyExistsException.class);
        }

        @Test
        void commitWithAnotherAlgorithmThanTheWriterHashedWithRehashes() {
            byte[] bytes = utf8("hashed twice");
            try (Writer w = store.writer("other-alg", null)) {
                w.write(ByteBuffer.wrap(bytes));
                assertThat(w.commit(0, Digest.sha512(bytes))).isEqualTo(Digest.sha512(bytes));
            }
            assertThat(store.info(Digest.sha512(bytes)).size()).isEqualTo(bytes.length);
        }
    }

    @Nested
    class Resuming {
        @Test
        void reopeningARefResumesAtItsOffsetWithItsDigest() {
            try (Writer w = store.writer("resume", null)) {
                w.write(ByteBuffer.wrap(utf8("hello ")));
            }
            Status status = store.status("resume");
            assertThat(status.offset()).isEqualTo(6);
            assertThat(status.ref()).isEqualTo("resume");
            try (Writer w = store.writer("resume", null)) {
                assertThat(w.status().offset()).isEqualTo(6);
                assertThat(w.status().startedAt()).isEqualTo(status.startedAt());
                assertThat(w.digest()).isEqualTo(Digest.sha256(utf8("hello ")));
                w.write(ByteBuffer.wrap(utf8("world")));
                assertThat(w.commit(11, Digest.sha256(utf8("hello world")))).isNotNull();
            }
        }

        @Test
        void anotherStoreInstanceRehashesTheData() {
            PseudoRandomBlob blob = new PseudoRandomBlob(7, 3 << 20);
            try (Writer w = store.writer("restart", blob.descriptor())) {
                w.transferFrom(Channels.newChannel(blob.stream()), 1 << 20);
            }
            store.close();
            store = LocalContentStore.open(root);
            try (Writer w = store.writer("restart", blob.descriptor())) {
                assertThat(w.status().offset()).isEqualTo(1 << 20);
                assertThat(w.status().total()).isEqualTo(blob.size());
                w.transferFrom(Channels.newChannel(blob.openAt(1 << 20)), Long.MAX_VALUE);
                assertThat(w.commit(blob.size(), blob.descriptor().digest())).isEqualTo(blob.descriptor().digest());
            }
        }

        @Test
        void aLargeIngestReopenedInThisJvmContinuesFromItsRememberedState() throws IOException {
            long half = DigestStateCache.MIN_SIZE + 123;
            PseudoRandomBlob blob = new PseudoRandomBlob(11, 2 * half);
            try (Writer w = store.writer("big", blob.descriptor())) {
                w.transferFrom(Channels.newChannel(blob.stream()), half);
            }
            long hitsBefore = store.digestStates().hits();
            try (Writer w = store.writer("big", blob.descriptor())) {
                assertThat(store.digestStates().hits()).isEqualTo(hitsBefore + 1);
                assertThat(w.status().offset()).isEqualTo(half);
                w.transferFrom(Channels.newChannel(blob.openAt(half)), Long.MAX_VALUE);
                assertThat(w.commit(blob.size(), blob.descriptor().digest())).isEqualTo(blob.descriptor().digest());
            }
        }

        @Test
        void bytesAppendedBehindTheStoresBackAreHashedNotTakenFromMemory() throws IOException {
            long size = DigestStateCache.MIN_SIZE + 10;
            PseudoRandomBlob blob = new PseudoRandomBlob(12, size);
            try (Writer w = store.writer("tampered", null)) {
                w.transferFrom(Channels.newChannel(blob.stream()), size);
            }
            Files.write(ingestDirOf("tampered").resolve("data"), utf8("extra"), StandardOpenOption.APPEND);
            long hitsBefore = store.digestStates().hits();
            try (Writer w = store.writer("tampered", null)) {
                assertThat(store.digestStates().hits()).isEqualTo(hitsBefore);
                assertThat(w.status().offset()).isEqualTo(size + 5);
                Digest expected = LocalContentStore.hashFile(ingestDirOf("tampered").resolve("data"), "sha256");
                assertThat(w.digest()).isEqualTo(expected);
            }
        }

        @Test
        void aDifferentExpectedTotalStartsOver() {
            byte[] ten = utf8("0123456789");
            try (Writer w = store.writer("total", descriptorOf(ten))) {
                w.write(ByteBuffer.wrap(ten, 0, 4));
            }
            byte[] other = utf8("01234567890123456789");
            try (Writer w = store.writer("total", descriptorOf(other))) {
                assertThat(w.status().offset()).isZero();
                assertThat(w.status().total()).isEqualTo(20);
                w.write(ByteBuffer.wrap(other));
                w.commit(other.length, Digest.sha256(other));
            }
        }

        @Test
        void anIncompleteIngestDirectoryIsSkippedAndStartedOver() throws IOException {
            Path dir = ingestDirOf("half-made");
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("ref"), "half-made");
            assertThat(store.listStatuses()).isEmpty();
            assertThatThrownBy(() -> store.status("half-made")).isInstanceOf(NotFoundException.class);
            try (Writer w = store.writer("half-made", null)) {
                assertThat(w.status().offset()).isZero();
            }
            assertThat(store.status("half-made").offset()).isZero();
        }

        @Test
        void truncateToZeroDiscardsTheData() throws IOException {
            try (Writer w = store.writer("trunc", null)) {
                w.write(ByteBuffer.wrap(utf8("wrong bytes")));
                w.truncate(0);
                assertThat(w.status().offset()).isZero();
                assertThat(w.digest()).isEqualTo(Digest.sha256(new byte[0]));
                assertThat(Files.size(ingestDirOf("trunc").resolve("data"))).isZero();
                assertThatThrownBy(() -> w.truncate(3)).isInstanceOf(NotImplementedException.class);
                w.write(ByteBuffer.wrap(utf8("right")));
                assertThat(w.commit(5, Digest.sha256(utf8("right")))).isEqualTo(Digest.sha256(utf8("right")));
            }
        }
    }

    @Nested
    class Ingests {
        @Test
        void statusOfAnUnknownRefIsNotFound() {
            assertThatThrownBy(() -> store.status("nope"))
                    .isInstanceOf(NotFoundException.class).hasMessageContaining("nope");
        }

        @Test
        void listStatusesFiltersOnRef() {
            for (String ref : List.of("layer-1", "layer-2", "config-1")) {
                try (Writer w = store.writer(ref, null)) {
                    w.write(ByteBuffer.wrap(utf8(ref)));
                }
            }
            assertThat(store.listStatuses()).extracting(Status::ref).containsExactly("config-1", "layer-1", "layer-2");
            assertThat(store.listStatuses("ref~=^layer-")).extracting(Status::ref).containsExactly("layer-1", "layer-2");
            assertThat(store.listStatuses("ref==config-1", "ref==layer-2")).extracting(Status::ref)
                    .containsExactly("config-1", "layer-2");
            assertThat(store.listStatuses("ref==config-1").get(0).offset()).isEqualTo(8);
        }

        @Test
        void abortRemovesTheIngest() {
            try (Writer w = store.writer("doomed", null)) {
                w.write(ByteBuffer.wrap(utf8("bytes")));
            }
            store.abort("doomed");
            assertThat(ingestDirOf("doomed")).doesNotExist();
            assertThatThrownBy(() -> store.status("doomed")).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> store.abort("doomed")).isInstanceOf(NotFoundException.class);
        }

        @Test
        void abortOfARefHeldByAWriterIsUnavailable() {
            try (Writer w = store.writer("held", null)) {
                w.write(ByteBuffer.wrap(utf8("x")));
                assertThatThrownBy(() -> store.abort("held")).isInstanceOf(UnavailableException.class);
            }
            store.abort("held");
        }

        @Test
        void closingTheStoreClosesItsWritersAndKeepsTheirIngests() {
            Writer w = store.writer("open-at-close", null);
            w.write(ByteBuffer.wrap(utf8("kept")));
            store.close();
            assertThat(w.isOpen()).isFalse();
            assertThatThrownBy(() -> store.info(Digest.sha256(utf8("x"))))
                    .isInstanceOf(FailedPreconditionException.class).hasMessageContaining("closed");
            try (LocalContentStore reopened = LocalContentStore.open(root);
                 Writer again = reopened.writer("open-at-close", null)) {
                assertThat(again.status().offset()).isEqualTo(4);
            }
        }
    }

    @Nested
    class Reading {
        @Test
        void readerAtReadsAnyRangeOfTheBlob() throws IOException {
            PseudoRandomBlob blob = new PseudoRandomBlob(3, (1 << 20) + 4321);
            byte[] all;
            try (InputStream in = blob.stream()) {
                all = in.readAllBytes();
            }
            Digest digest = put("random", all);
            Random random = new Random(42);
            try (ReaderAt reader = store.readerAt(descriptorOf(all))) {
                assertThat(reader.size()).isEqualTo(all.length);
                for (int i = 0; i < 50; i++) {
                    int pos = random.nextInt(all.length);
                    int len = Math.min(1 + random.nextInt(100_000), all.length - pos);
                    ByteBuffer dst = ByteBuffer.allocate(len);
                    while (dst.hasRemaining()) {
                        reader.read(dst, pos + dst.position());
                    }
                    assertThat(dst.array()).isEqualTo(java.util.Arrays.copyOfRange(all, pos, pos + len));
                }
                assertThat(reader.read(ByteBuffer.allocate(10), all.length)).isEqualTo(-1);
                try (InputStream tail = reader.inputStream(all.length - 1000)) {
                    assertThat(tail.readAllBytes()).isEqualTo(java.util.Arrays.copyOfRange(all, all.length - 1000, all.length));
                }
                store.delete(digest);
                assertThat(reader.read(ByteBuffer.allocate(4), 0)).isEqualTo(4);
            }
        }

        @Test
        void readerAtOfAMissingBlobIsNotFound() {
            assertThatThrownBy(() -> store.readerAt(descriptorOf(utf8("absent"))))
                    .isInstanceOf(NotFoundException.class).hasMessageContaining(Digest.sha256(utf8("absent")).toString());
            assertThatThrownBy(() -> store.info(Digest.sha256(utf8("absent")))).isInstanceOf(NotFoundException.class);
        }
    }

    @Nested
    class Walking {
        @Test
        void walkVisitsEveryBlobAndFiltersOnDigestSizeAndLabels() throws IOException {
            Digest a = put("a", utf8("aaaa"));
            Digest b = put("b", utf8("bb"));
            Digest c = Digest.sha512(utf8("c"));
            try (Writer w = store.writer("c", null)) {
                w.write(ByteBuffer.wrap(utf8("c")));
                w.commit(1, c);
            }
            assertThat(store.list()).extracting(Info::digest).containsExactlyInAnyOrder(a, b, c);
            assertThat(store.list("digest==" + a)).extracting(Info::digest).containsExactly(a);
            assertThat(store.list("size==2")).extracting(Info::digest).containsExactly(b);
            assertThat(store.list("digest~=^sha512:")).extracting(Info::digest).containsExactly(c);
            assertThat(store.list("size==4", "size==1")).extracting(Info::digest).containsExactlyInAnyOrder(a, c);
            assertThat(store.list("labels.owner==me")).isEmpty();
            assertThat(store.list("labels.owner!=me")).hasSize(3);
        }

        @Test
        void unknownAlgorithmsAndStrayFilesAreSkipped() throws IOException {
            Digest a = put("a", utf8("kept"));
            Files.createDirectories(root.resolve("blobs/md5"));
            Files.writeString(root.resolve("blobs/md5/0cc175b9c0f1b6a831c399e269772661"), "a");
            Files.writeString(root.resolve("blobs/sha256/not-a-digest"), "junk");
            assertThat(store.list()).extracting(Info::digest).containsExactly(a);
            assertThatThrownBy(() -> Digest.parse("md5:0cc175b9c0f1b6a831c399e269772661"))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("md5");
        }

        @Test
        void aMalformedFilterIsInvalid() {
            assertThatThrownBy(() -> store.list("digest==\"unterminated"))
                    .isInstanceOf(InvalidArgumentException.class);
        }
    }

    @Nested
    class VerifyingAndDeleting {
        @Test
        void verifyDetectsABlobModifiedBehindTheStoresBack() throws IOException {
            byte[] bytes = utf8("pristine content");
            Digest digest = put("v", bytes);
            assertThat(store.verify(digest).size()).isEqualTo(bytes.length);
            Path blob = root.resolve("blobs/sha256").resolve(digest.hex());
            Files.setPosixFilePermissions(blob, PosixFilePermissions.fromString("rw-r--r--"));
            bytes[0] ^= 1;
            Files.write(blob, bytes);
            assertThatThrownBy(() -> store.verify(digest))
                    .isInstanceOf(FailedPreconditionException.class)
                    .hasMessageContaining(digest.toString())
                    .hasMessageContaining(Digest.sha256(bytes).toString());
            assertThatThrownBy(() -> Content.readBlob(store, descriptorOf(utf8("pristine content"))))
                    .isInstanceOf(FailedPreconditionException.class).hasMessageContaining("corrupt");
        }

        @Test
        void verifyOfAMissingBlobIsNotFound() {
            assertThatThrownBy(() -> store.verify(Digest.sha256(utf8("none")))).isInstanceOf(NotFoundException.class);
        }

        @Test
        void deleteRemovesTheBlobAndItCanBeAddedAgain() {
            byte[] bytes = utf8("short-lived");
            Digest digest = put("d", bytes);
            store.delete(digest);
            assertThatThrownBy(() -> store.info(digest)).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> store.delete(digest)).isInstanceOf(NotFoundException.class);
            assertThat(store.list()).isEmpty();
            assertThat(put("d", bytes)).isEqualTo(digest);
            assertThat(store.verify(digest).size()).isEqualTo(bytes.length);
        }
    }
}
