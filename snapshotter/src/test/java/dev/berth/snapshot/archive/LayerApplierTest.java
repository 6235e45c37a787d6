package dev.berth.snapshot.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Mount;
import dev.berth.snapshot.archive.ApplyHarness.Mode;

class LayerApplierTest {
    private final java.util.List<ApplyHarness> harnesses = new java.util.ArrayList<>();

    @AfterEach
    void cleanUp() {
        harnesses.forEach(ApplyHarness::close);
    }

    ApplyHarness naive() {
        ApplyHarness h = new ApplyHarness(Mode.NAIVE);
        harnesses.add(h);
        return h;
    }

    ApplyHarness naive(LayerApplier applier) {
        ApplyHarness h = new ApplyHarness(Mode.NAIVE, applier);
        harnesses.add(h);
        return h;
    }

    ApplyHarness overlay() {
        ApplyHarness h = new ApplyHarness(Mode.OVERLAY);
        harnesses.add(h);
        return h;
    }

    static TestTar sample() {
        return TestTar.create().dir("a").file("a/b", "hello").symlink("c", "a/b");
    }

    @Nested
    class Streams {
        @Test
        void detectsCompressionAndReportsTheSameDiffIdForEveryEncoding() {
            byte[] tar = sample().bytes();
            Digest expected = Digest.sha256(tar);
            byte[] zstdWithSkippableFrame = concat(new byte[] {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4},
                    TestTar.zstd(tar));
            for (byte[] layer : List.of(tar, TestTar.gzip(tar), TestTar.zstd(tar), zstdWithSkippableFrame)) {
                ApplyResult r = naive().apply(layer);
                assertThat(r.diffId()).isEqualTo(expected);
                assertThat(r.uncompressedSize()).isEqualTo(tar.length);
                assertThat(r.compressedSize()).isEqualTo(layer.length);
                assertThat(r.entries()).isEqualTo(3);
            }
            assertThat(naive().apply(TestTar.gzip(tar)).compression()).isEqualTo(Compression.GZIP);
            assertThat(naive().apply(zstdWithSkippableFrame).compression()).isEqualTo(Compression.ZSTD);
            assertThat(naive().apply(tar).compression()).isEqualTo(Compression.NONE);
        }

        @Test
        void diffIdCoversBytesAfterTheEndMarker() {
            byte[] tar = concat(sample().bytes(), new byte[10240], "trailing".getBytes(StandardCharsets.US_ASCII));
            ApplyResult r = naive().apply(TestTar.gzip(tar));
            assertThat(r.diffId()).isEqualTo(Digest.sha256(tar));
            assertThat(r.uncompressedSize()).isEqualTo(tar.length);
        }

        @Test
        void acceptsATarWithoutEndMarkerAndAnEmptyStream() {
            ApplyHarness h = naive();
            h.apply(sample().bytesWithoutEnd());
            assertThat(h.merged()).containsKeys("a/b", "c");
            assertThat(naive().apply(new byte[0]).diffId()).isEqualTo(Digest.sha256(new byte[0]));
        }

        @Test
        void truncatedGzipFails() {
            byte[] gz = TestTar.gzip(TestTar.create().file("big", new byte[200_000], null).bytes());
            byte[] cut = Arrays.copyOf(gz, gz.length / 2);
            assertThatThrownBy(() -> naive().apply(cut)).isInstanceOf(InvalidLayerException.class)
                    .hasMessageContaining("corrupt or truncated");
        }

        @Test
        void truncatedEntryContentFailsNamingTheEntry() {
            byte[] tar = TestTar.create().file("first", "x").file("big", new byte[100_000], null).bytes();
            byte[] cut = Arrays.copyOf(tar, 512 * 3 + 50_000);
            assertThatThrownBy(() -> naive().apply(cut)).isInstanceOf(InvalidLayerException.class)
                    .satisfies(e -> assertThat(((InvalidLayerException) e).entryName()).contains("big"));
        }

        @Test
        void truncatedHeaderFails() {
            byte[] tar = TestTar.create().file("first", "x").file("second", "y").bytesWithoutEnd();
            byte[] cut = Arrays.copyOf(tar, 512 * 2 + 100);
            assertThatThrownBy(() -> naive().apply(cut)).isInstanceOf(InvalidLayerException.class)
                    .hasMessageContaining("truncated");
        }

        @Test
        void headerChecksumMismatchFails() {
            byte[] tar = TestTar.create().file("first", "x").file("second", "y").bytes();
            tar[1024 + 10] ^= 1; // second header's name
            assertThatThrownBy(() -> naive().apply(tar)).isInstanceOf(InvalidLayerException.class)
                    .hasMessageContaining("checksum");
        }

        @Test
        void garbageFails() {
            byte[] junk = new byte[4096];
            new java.util.Random(1).nextBytes(junk);
            assertThatThrownBy(() -> naive().apply(junk)).isInstanceOf(InvalidLayerException.class);
        }

        @Test
        void unsupportedEntryTypeFails() {
            byte[] tar = TestTar.create().entry("vol", 'V', 0644, new TestTar.Attrs(), "", new byte[0], 0, 0).bytes();
            assertThatThrownBy(() -> naive().apply(tar)).isInstanceOf(InvalidLayerException.class)
                    .hasMessageContaining("unsupported tar entry type 'V'");
        }

        @Test
        void oversizedPaxHeaderFails() {
            TestTar t = TestTar.create().file("f", "x", a -> a.pax("comment", "c".repeat(2 << 20)));
            assertThatThrownBy(() -> naive().apply(t.bytes())).isInstanceOf(InvalidLayerException.class)
                    .hasMessageContaining("larger than");
        }

        @Test
        void failureOfTheCallersStreamIsRethrownAsIs() {
            IOException boom = new IOException("network down");
            InputStream failing = new InputStream() {
                int n;

                @Override
                public int read() throws IOException {
                    if (n++ > 600) {
                        throw boom;
                    }
                    return 0;
                }
            };
            ApplyHarness h = naive();
            assertThatThrownBy(() -> LayerApplier.create().apply(failing, ApplyTarget.naive(h.written())))
                    .isSameAs(boom);
        }

        @Test
        void layersWrittenByCommonsCompressApply() throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            String longName = "dir/" + "x".repeat(150);
            try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
                out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                out.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                TarArchiveEntry d = new TarArchiveEntry("dir/");
                out.putArchiveEntry(d);
                out.closeArchiveEntry();
                TarArchiveEntry f = new TarArchiveEntry(longName);
                byte[] content = "content".getBytes(StandardCharsets.UTF_8);
                f.setSize(content.length);
                f.setUserId(70000000L);
                f.setMode(0100640);
                f.addPaxHeader("SCHILY.xattr.user.text", "plain");
                out.putArchiveEntry(f);
                out.write(content);
                out.closeArchiveEntry();
            }
            ApplyHarness h = naive();
            h.apply(bytes.toByteArray());
            var t = h.merged();
            assertThat(t.get(longName).uid()).isEqualTo(70000000);
            assertThat(t.get(longName).mode()).isEqualTo(0640);
            assertThat(t.get(longName).xattrs()).containsEntry("user.text", ConformanceSuite.hex("plain"));
        }
    }

    /** Compressed and uncompressed streams that are odd or hostile as a whole. */
    @Nested
    class HostileStreams {
        /**
         * A stream that, like a socket or pipe, never reports bytes as available, and whose reads end at
         * the given offsets (as network packets end where the sender flushed).
         */
        InputStream trickle(byte[] data, int... boundaries) {
            return new InputStream() {
                int pos;

                int limit() {
                    for (int b : boundaries) {
                        if (b > pos) {
                            return b;
                        }
                    }
                    return data.length;
                }

                @Override
                public int read() {
                    return pos < data.length ? data[pos++] & 0xff : -1;
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (pos >= data.length) {
                        return -1;
                    }
                    int n = Math.min(Math.min(len, 1000), limit() - pos);
                    System.arraycopy(data, pos, b, off, n);
                    pos += n;
                    return n;
                }

                @Override
                public int available() {
                    return 0;
                }
            };
        }

        @Test
        void everyMemberOfAMultiMemberGzipIsApplied() throws IOException {
            byte[] tar = TestTar.create().file("first", "1").file("second", "2").file("third", "3").bytes();
            int cut = 1024; // the first file entry (header + one block) in its own gzip member
            byte[] m1 = TestTar.gzip(Arrays.copyOf(tar, cut));
            byte[] m2 = TestTar.gzip(Arrays.copyOfRange(tar, cut, cut * 2));
            byte[] layer = concat(m1, m2, TestTar.gzip(Arrays.copyOfRange(tar, cut * 2, tar.length)));
            ApplyHarness h = naive();
            ApplyResult r = LayerApplier.create().apply(trickle(layer, m1.length, m1.length + m2.length),
                    ApplyTarget.naive(h.written()));
            assertThat(r.diffId()).isEqualTo(Digest.sha256(tar));
            assertThat(h.merged()).containsKeys("first", "second", "third");
        }

        @Test
        void garbageAfterTheLastGzipMemberFails() {
            byte[] layer = concat(TestTar.gzip(sample().bytes()), "garbage!".getBytes(StandardCharsets.US_ASCII));
            assertThatThrownBy(() -> naive().apply(layer)).isInstanceOf(InvalidLayerException.class)
                    .hasMessageContaining("corrupt or truncated");
        }

        @Test
        void truncatedGzipHeaderFailsAsAnInvalidLayer() {
            assertThatThrownBy(() -> naive().apply(new byte[] {0x1f, (byte) 0x8b, 0x08, 0}))
                    .isInstanceOf(InvalidLayerException.class);
        }

        @Test
        void zstdWithSkippableFramesAnywhereAndSeveralFrames() throws IOException {
            byte[] tar = sample().bytes();
            byte[] skippable = {0x5f, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9};
            byte[] layer = concat(skippable, TestTar.zstd(Arrays.copyOf(tar, 1024)), skippable,
                    TestTar.zstd(Arrays.copyOfRange(tar, 1024, tar.length)), skippable);
            ApplyHarness h = naive();
            ApplyResult r = LayerApplier.create().apply(trickle(layer), ApplyTarget.naive(h.written()));
            assertThat(r.diffId()).isEqualTo(Digest.sha256(tar));
            assertThat(r.compression()).isEqualTo(Compression.ZSTD);
            assertThat(h.merged()).containsKeys("a/b", "c");
        }

        @Test
        void truncatedZstdFails() {
            byte[] z = TestTar.zstd(TestTar.create().file("big", new byte[300_000], null).bytes());
            assertThatThrownBy(() -> naive().apply(Arrays.copyOf(z, z.length - 10)))
                    .isInstanceOf(InvalidLayerException.class);
        }

        @Test
        void trailingGarbageAfterThePlainTarEndMarkerIsHashedButNotParsed() {
            byte[] evil = TestTar.create().file("evil", "e").bytes();
            byte[] tar = concat(sample().bytes(), evil);
            ApplyHarness h = naive();
            ApplyResult r = h.apply(tar);
            assertThat(r.diffId()).isEqualTo(Digest.sha256(tar));
            assertThat(h.merged()).doesNotContainKey("evil").containsKey("a/b");
        }

        @Test
        void textThatIsNotATarFails() {
            assertThatThrownBy(() -> naive().apply("just some text\n".getBytes(StandardCharsets.US_ASCII)))
                    .isInstanceOf(InvalidLayerException.class).hasMessageContaining("truncated tar header");
            byte[] block = "x".repeat(512).getBytes(StandardCharsets.US_ASCII);
            assertThatThrownBy(() -> naive().apply(concat(block, new byte[1024])))
                    .isInstanceOf(InvalidLayerException.class).hasMessageContaining("checksum");
        }

        @Test
        void hugeDeclaredSizesFailAsTruncatedWithoutBufferingAnything() {
            // PAX size of 1 TiB, and a base-256 size field of 2^62, over a few bytes of content
            TestTar pax = TestTar.create().file("f", "abc", a -> a.pax("size", Long.toString(1L << 40)));
            assertThatThrownBy(() -> naive().apply(TestTar.gzip(pax.bytes())))
                    .isInstanceOf(InvalidLayerException.class).hasMessageContaining("truncated")
                    .satisfies(e -> assertThat(((InvalidLayerException) e).entryName()).contains("f"));
            byte[] header = TestTar.header("g", '0', 0644, 0, "");
            Arrays.fill(header, 124, 136, (byte) 0);
            header[124] = (byte) 0x80;
            header[128] = 0x40; // 2^62 in base-256
            fixChecksum(header);
            assertThatThrownBy(() -> naive().apply(concat(header, new byte[4096])))
                    .isInstanceOf(InvalidLayerException.class).hasMessageContaining("truncated");
        }

        @Test
        void bombsAreStoppedByTheLimitsWhileStreaming() {
            LayerApplier guarded = LayerApplier.builder().maxUncompressedSize(8 << 20).maxCompressionRatio(100).build();
            byte[] bomb = TestTar.zstd(TestTar.create().file("zeros", new byte[64 << 20], null).bytes());
            assertThat(bomb.length).isLessThan(64 << 10);
            ApplyHarness h = naive(guarded);
            assertThatThrownBy(() -> h.apply(bomb)).isInstanceOf(LayerLimitExceededException.class);
        }

        private static void fixChecksum(byte[] h) {
            Arrays.fill(h, 148, 156, (byte) ' ');
            long sum = 0;
            for (byte b : h) {
                sum += b & 0xff;
            }
            byte[] cs = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(cs, 0, h, 148, cs.length);
        }
    }

    @Nested
    class LargeSparseFiles {
        private static byte[] readAt(java.nio.file.Path file, long offset, int n) throws IOException {
            try (var ch = java.nio.channels.FileChannel.open(file)) {
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(n);
                ch.read(buf, offset);
                return java.util.Arrays.copyOf(buf.array(), buf.position());
            }
        }

        @Test
        void paxSparseFileOf3GiBIsAppliedWithItsRealSize() throws IOException {
            long size = 3L << 30; // above 2^31: GNU.sparse.realsize must be read as 64 bits
            ApplyHarness h = naive();

            h.apply(SparseTars.sparse10("big", size, Map.of(0L, "head", size - 4, "tail")).file("after", "after"));

            java.nio.file.Path big = h.written().resolve("big");
            assertThat(Files.size(big)).isEqualTo(size);
            assertThat(readAt(big, 0, 4)).isEqualTo("head".getBytes(StandardCharsets.US_ASCII));
            assertThat(readAt(big, 1L << 31, 4)).isEqualTo(new byte[4]);
            assertThat(readAt(big, size - 4, 4)).isEqualTo("tail".getBytes(StandardCharsets.US_ASCII));
            assertThat(Files.readString(h.written().resolve("after"))).isEqualTo("after");
        }

        @Test
        void oldPaxSparseSizeAbove2GiBIsReadAs64Bits() throws IOException {
            long size = (1L << 32) + 10;
            ApplyHarness h = naive();
            Map<String, byte[]> pax = new java.util.LinkedHashMap<>(); // PAX sparse 0.1
            pax.put("GNU.sparse.size", Long.toString(size).getBytes(StandardCharsets.US_ASCII));
            pax.put("GNU.sparse.numblocks", "1".getBytes(StandardCharsets.US_ASCII));
            // the 0.x maps are checked against the size commons-compress can parse: data below 2 GiB
            pax.put("GNU.sparse.map", ((1L << 30) + ",2").getBytes(StandardCharsets.US_ASCII));
            pax.put("GNU.sparse.name", "old".getBytes(StandardCharsets.US_ASCII));
            byte[] records = TestTar.paxRecords(pax);
            TestTar t = TestTar.create();
            t.raw(TestTar.header("PaxHeaders/old", 'x', 0644, records.length, ""));
            t.raw(TestTar.pad(records));
            t.raw(TestTar.header("GNUSparseFile.0/old", '0', 0644, 2, ""));
            t.raw(TestTar.pad("ok".getBytes(StandardCharsets.US_ASCII)));

            h.apply(t);

            java.nio.file.Path old = h.written().resolve("old");
            assertThat(Files.size(old)).isEqualTo(size);
            assertThat(readAt(old, 1L << 30, 2)).isEqualTo("ok".getBytes(StandardCharsets.US_ASCII));
            assertThat(readAt(old, size - 2, 2)).isEqualTo(new byte[2]);
        }
    }

    @Nested
    class Limits {
        @Test
        void uncompressedSizeLimitIsEnforced() {
            LayerApplier small = LayerApplier.builder().maxUncompressedSize(100_000).build();
            byte[] tar = TestTar.create().file("big", new byte[200_000], null).bytes();
            assertThatThrownBy(() -> naive(small).apply(TestTar.gzip(tar)))
                    .isInstanceOf(LayerLimitExceededException.class).hasMessageContaining("100000");
            assertThat(naive(small).apply(sample().bytes()).entries()).isEqualTo(3);
        }

        @Test
        void compressionRatioLimitStopsDecompressionBombs() {
            LayerApplier guarded = LayerApplier.builder().maxCompressionRatio(50).build();
            byte[] bomb = TestTar.gzip(TestTar.create().file("zeros", new byte[20 << 20], null).bytes());
            assertThatThrownBy(() -> naive(guarded).apply(bomb)).isInstanceOf(LayerLimitExceededException.class)
                    .hasMessageContaining("ratio");
        }

        @Test
        void defaultApplierHasLimitsThatOrdinaryLayersNeverReach() throws Exception {
            LayerApplier defaults = LayerApplier.create();
            // 70 MiB of zeros: past the 64 MiB the default ratio waits for, and far beyond 1000:1 in zstd
            byte[] bomb = TestTar.zstd(TestTar.create().file("zeros", new byte[70 << 20], null).bytes());

            assertThatThrownBy(() -> naive(defaults).apply(bomb)).isInstanceOf(LayerLimitExceededException.class)
                    .hasMessageContaining("ratio limit of 1000");
            // the same zeros below the ratio's threshold, and random data well past it, are fine
            byte[] smallZeros = TestTar.zstd(TestTar.create().file("zeros", new byte[8 << 20], null).bytes());
            assertThat(naive(defaults).apply(smallZeros).entries()).isEqualTo(1);
        }

        @Test
        void unlimitedApplierAcceptsWhatTheDefaultsRefuse() throws Exception {
            byte[] bomb = TestTar.zstd(TestTar.create().file("zeros", new byte[70 << 20], null).bytes());

            assertThat(naive(LayerApplier.builder().unlimited().build()).apply(bomb).entries()).isEqualTo(1);
        }

        @Test
        void builderRejectsNonsense() {
            assertThatThrownBy(() -> LayerApplier.builder().maxUncompressedSize(0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxUncompressedSize");
            assertThatThrownBy(() -> LayerApplier.builder().maxCompressionRatio(0.5))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxCompressionRatio");
        }
    }

    @Nested
    class Targets {
        @Test
        void singleBindMountAppliesNaivelyIntoItsSource() {
            ApplyTarget t = ApplyTarget.fromMounts(List.of(new Mount("bind", "/s/1/fs", List.of("rw", "rbind"))));
            assertThat(t).isEqualTo(ApplyTarget.naive(Path.of("/s/1/fs")));
        }

        @Test
        void overlayMountAppliesIntoItsUpperdirOverItsLowerdirs() {
            ApplyTarget t = ApplyTarget.fromMounts(List.of(new Mount("overlay", "overlay",
                    List.of("index=off", "workdir=/s/3/work", "upperdir=/s/3/fs", "lowerdir=/s/2/fs:/s/1/fs"))));
            assertThat(t).isEqualTo(ApplyTarget.overlay(Path.of("/s/3/fs"), List.of(Path.of("/s/2/fs"), Path.of("/s/1/fs"))));
        }

        @Test
        void viewsAndOddMountsAreRejected() {
            assertThatThrownBy(() -> ApplyTarget.fromMounts(List.of(new Mount("overlay", "overlay",
                    List.of("lowerdir=/s/2/fs:/s/1/fs"))))).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("without upperdir");
            assertThatThrownBy(() -> ApplyTarget.fromMounts(List.of(new Mount("bind", "/s/1/fs", List.of("ro", "rbind")))))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("read-only");
            assertThatThrownBy(() -> ApplyTarget.fromMounts(List.of())).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> ApplyTarget.fromMounts(List.of(new Mount("tmpfs", "tmpfs", List.of()))))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("tmpfs");
        }

        @Test
        void missingTargetDirectoryIsRejected() {
            assertThatThrownBy(() -> LayerApplier.create().apply(new ByteArrayInputStream(sample().bytes()),
                    ApplyTarget.naive(Path.of("/nonexistent/berth")))).isInstanceOf(InvalidArgumentException.class);
        }
    }

    /** The upper directory an overlay apply leaves, in overlayfs' own format. */
    @Nested
    class OverlayUpperFormat {
        TestTar lower() {
            return TestTar.create().dir("d", a -> a.mode(0750).owner(7, 8).xattr("user.k", "v")).file("d/f", "f")
                    .dir("e").file("e/x", "x").file("gone", "g");
        }

        @Test
        void whiteoutIsACharacterDevice00OwnedLikeTheEntry() throws IOException {
            ApplyHarness h = overlay().lower(lower());
            h.apply(TestTar.create().file(".wh.gone", "", a -> a.owner(12, 34)).whiteout("nothing").whiteout("x/y"));
            var upper = TreeSnapshot.of(h.written());
            assertThat(upper.get("gone").type()).isEqualTo("char");
            assertThat(upper.get("gone").rdev()).isZero();
            assertThat(upper.get("gone").uid()).isEqualTo(12);
            assertThat(upper.keySet()).containsExactlyInAnyOrder("", "gone");
        }

        @Test
        void opaqueDirectoryGetsTheXattrAndLowerMetadata() throws IOException {
            ApplyHarness h = overlay().lower(lower());
            h.apply(TestTar.create().opaque("d").file("e/new", "n"));
            var upper = TreeSnapshot.of(h.written());
            assertThat(upper.get("d").xattrs()).containsEntry("trusted.overlay.opaque", "79").containsEntry("user.k", "76");
            assertThat(upper.get("d").mode()).isEqualTo(0750);
            assertThat(upper.get("d").uid()).isEqualTo(7);
            assertThat(upper.get("e").xattrs()).doesNotContainKey("trusted.overlay.opaque");
            assertThat(upper.keySet()).containsExactlyInAnyOrder("", "d", "e", "e/new");
        }

        @Test
        void directoryRecreatedAfterItsWhiteoutIsOpaqueWithoutWhiteout() throws IOException {
            ApplyHarness h = overlay().lower(lower());
            h.apply(TestTar.create().whiteout("d").dir("d").file("d/n", "n"));
            var upper = TreeSnapshot.of(h.written());
            assertThat(upper.get("d").type()).isEqualTo("dir");
            assertThat(upper.get("d").xattrs()).containsEntry("trusted.overlay.opaque", "79");
        }

        @Test
        void layerCannotForgeOverlayXattrs() throws IOException {
            ApplyHarness h = overlay().lower(lower());
            h.apply(TestTar.create().dir("e", a -> a.xattr("trusted.overlay.opaque", "y"))
                    .file("w", "", a -> a.xattr("trusted.overlay.whiteout", "y")));
            var upper = TreeSnapshot.of(h.written());
            assertThat(upper.get("e").xattrs()).isEmpty();
            assertThat(upper.get("w").xattrs()).isEmpty();
        }

        @Test
        void hardlinkToLowerFileCopiesItIntoTheUpper() throws IOException {
            ApplyHarness h = overlay().lower(lower());
            h.apply(TestTar.create().hardlink("link", "d/f"));
            var upper = TreeSnapshot.of(h.written());
            assertThat(upper.get("d/f").linkGroup()).isEqualTo("d/f");
            assertThat(upper.get("link").linkGroup()).isEqualTo("d/f");
            assertThat(upper.get("d").mode()).isEqualTo(0750);
            assertThat(Files.readString(h.written().resolve("link"))).isEqualTo("f");
        }
    }

    @Test
    void deviceNodesCanBeSkipped() {
        ApplyHarness h = naive(LayerApplier.builder().deviceNodes(LayerApplier.DeviceNodes.SKIP).build());
        h.apply(TestTar.create().device("null", '3', 1, 3, null).device("fifo", '6', 0, 0, null));
        assertThat(h.merged()).doesNotContainKey("null").containsKey("fifo");
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }
}
