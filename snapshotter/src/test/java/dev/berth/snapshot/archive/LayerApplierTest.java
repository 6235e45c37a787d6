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
