package dev.berth.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.MediaTypes;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.testing.TarReading.RawHeader;
import dev.berth.testing.TarReading.Read;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class LayerBuilderTest {

    @Nested
    class EntryTypes {
        @Test
        void regularFileReadsBackWithContentModeOwnerAndMtime() throws IOException {
            Instant mtime = Instant.parse("2021-05-06T07:08:09Z");
            byte[] tar = LayerBuilder.create()
                    .entry(TarEntry.file("etc/motd", "hello\n").withMode(04755).withOwner(1000, 1001)
                            .withOwnerNames("app", "staff").withMtime(mtime))
                    .tar();

            List<Read> read = TarReading.read(tar);
            assertThat(read).hasSize(1);
            TarArchiveEntry e = read.get(0).entry();
            assertThat(e.getName()).isEqualTo("etc/motd");
            assertThat(e.isFile()).isTrue();
            assertThat(read.get(0).content()).asString(StandardCharsets.UTF_8).isEqualTo("hello\n");
            assertThat(e.getMode()).isEqualTo(04755);
            assertThat(e.getLongUserId()).isEqualTo(1000);
            assertThat(e.getLongGroupId()).isEqualTo(1001);
            assertThat(e.getUserName()).isEqualTo("app");
            assertThat(e.getGroupName()).isEqualTo("staff");
            assertThat(e.getLastModifiedTime().toInstant()).isEqualTo(mtime);
        }

        @Test
        void everyEntryTypeReadsBackWithItsTypeAndLinks() throws IOException {
            byte[] tar = LayerBuilder.create()
                    .dir("d", 01777)
                    .file("d/f", "x")
                    .symlink("d/s", "../etc/passwd")
                    .hardlink("d/h", "d/f")
                    .charDevice("dev/null", 1, 3)
                    .blockDevice("dev/loop0", 7, 0)
                    .fifo("d/pipe")
                    .tar();

            List<Read> read = TarReading.read(tar);
            assertThat(read).extracting(r -> r.entry().getName())
                    .containsExactly("d/", "d/f", "d/s", "d/h", "dev/null", "dev/loop0", "d/pipe");
            assertThat(read.get(0).entry().isDirectory()).isTrue();
            assertThat(read.get(0).entry().getMode()).isEqualTo(01777);
            assertThat(read.get(2).entry().isSymbolicLink()).isTrue();
            assertThat(read.get(2).entry().getLinkName()).isEqualTo("../etc/passwd");
            assertThat(read.get(3).entry().isLink()).isTrue();
            assertThat(read.get(3).entry().getLinkName()).isEqualTo("d/f");
            assertThat(read.get(4).entry().isCharacterDevice()).isTrue();
            assertThat(read.get(4).entry().getDevMajor()).isEqualTo(1);
            assertThat(read.get(4).entry().getDevMinor()).isEqualTo(3);
            assertThat(read.get(5).entry().isBlockDevice()).isTrue();
            assertThat(read.get(5).entry().getDevMajor()).isEqualTo(7);
            assertThat(read.get(6).entry().isFIFO()).isTrue();
        }

        @Test
        void whiteoutsAndOpaqueMarkersAreEmptyFilesWithOverlayNames() throws IOException {
            byte[] tar = LayerBuilder.create()
                    .whiteout("etc/passwd")
                    .whiteout("top")
                    .opaque("var/lib/")
                    .opaque("")
                    .tar();

            List<Read> read = TarReading.read(tar);
            assertThat(read).extracting(r -> r.entry().getName())
                    .containsExactly("etc/.wh.passwd", ".wh.top", "var/lib/.wh..wh..opq", ".wh..wh..opq");
            assertThat(read).allSatisfy(r -> {
                assertThat(r.entry().isFile()).isTrue();
                assertThat(r.content()).isEmpty();
            });
        }

        @Test
        void convenienceMethodsDropLeadingSlashAndUseBuilderDefaults() throws IOException {
            Instant mtime = Instant.parse("2022-02-02T02:02:02Z");
            byte[] tar = LayerBuilder.create().defaultMtime(mtime).defaultOwner(5, 6)
                    .file("/abs/file", "x").tar();

            TarArchiveEntry e = TarReading.read(tar).get(0).entry();
            assertThat(e.getName()).isEqualTo("abs/file");
            assertThat(e.getLastModifiedTime().toInstant()).isEqualTo(mtime);
            assertThat(e.getLongUserId()).isEqualTo(5);
            assertThat(e.getLongGroupId()).isEqualTo(6);
        }
    }

    @Nested
    class Pax {
        @Test
        void longNamesAndLinkTargetsReadBackWhole() throws IOException {
            String longName = "a/" + "b".repeat(150) + "/" + "c".repeat(120);
            String longTarget = "/" + "t".repeat(200);
            byte[] tar = LayerBuilder.create()
                    .file(longName, "x")
                    .symlink("link", longTarget)
                    .file("ünïcode/файл", "y")
                    .tar();

            assertThat(TarReading.read(tar)).extracting(r -> r.entry().getName())
                    .containsExactly(longName, "link", "ünïcode/файл");
            assertThat(TarReading.read(tar).get(1).entry().getLinkName()).isEqualTo(longTarget);
        }

        @Test
        void xattrsAreWrittenAsSchilyRecordsByteExact() throws IOException {
            byte[] capability = {1, 0, 0, 2, (byte) 0x80, 0x20, 0, 0, 0, 0, 0, 0, (byte) 0xff, 0, 0, 0, 0, 0, 0, 0};
            byte[] tar = LayerBuilder.create()
                    .entry(TarEntry.file("bin/ping", "elf").withXattr("security.capability", capability)
                            .withXattr("user.comment", "hi there"))
                    .entry(TarEntry.dir("upper").withXattr("trusted.overlay.opaque", "y"))
                    .tar();

            List<RawHeader> raw = TarReading.rawHeaders(tar);
            assertThat(raw).extracting(RawHeader::type).containsExactly('x', '0', 'x', '5');
            Map<String, byte[]> pax = TarReading.paxRecords(raw.get(0).data());
            assertThat(pax.get("SCHILY.xattr.security.capability")).isEqualTo(capability);
            assertThat(pax.get("SCHILY.xattr.user.comment")).asString().isEqualTo("hi there");
            assertThat(TarReading.paxRecords(raw.get(2).data()).get("SCHILY.xattr.trusted.overlay.opaque"))
                    .asString().isEqualTo("y");

            List<Read> read = TarReading.read(tar);
            assertThat(read).extracting(r -> r.entry().getName()).containsExactly("bin/ping", "upper/");
            assertThat(read.get(0).content()).asString().isEqualTo("elf");
            assertThat(read.get(0).entry().getExtraPaxHeaders()).containsEntry("SCHILY.xattr.user.comment", "hi there");
        }

        @Test
        void xattrEntryWithLongNameCarriesPathInTheSamePaxHeader() throws IOException {
            String longName = "d/" + "n".repeat(130);
            byte[] tar = LayerBuilder.create()
                    .entry(TarEntry.file(longName, "x").withXattr("user.a", "b")).tar();

            List<RawHeader> raw = TarReading.rawHeaders(tar);
            assertThat(raw).extracting(RawHeader::type).containsExactly('x', '0');
            assertThat(TarReading.paxRecords(raw.get(0).data()).get("path")).asString().isEqualTo(longName);
            assertThat(TarReading.read(tar).get(0).entry().getName()).isEqualTo(longName);
        }

        @Test
        void subSecondMtimeAndHugeIdsGoIntoPaxRecords() throws IOException {
            Instant mtime = Instant.parse("2023-03-04T05:06:07.123456789Z");
            byte[] tar = LayerBuilder.create()
                    .entry(TarEntry.file("f", "x").withMtime(mtime).withOwner(100_000_000L, 3_000_000_000L))
                    .tar();

            Map<String, byte[]> pax = TarReading.paxRecords(TarReading.rawHeaders(tar).get(0).data());
            assertThat(pax.get("mtime")).asString().isEqualTo("1677906367.123456789");
            TarArchiveEntry e = TarReading.read(tar).get(0).entry();
            assertThat(e.getLastModifiedTime().toInstant()).isEqualTo(mtime);
            assertThat(e.getLongUserId()).isEqualTo(100_000_000L);
            assertThat(e.getLongGroupId()).isEqualTo(3_000_000_000L);
        }

        @Test
        void explicitPaxRecordsAreWrittenVerbatim() {
            byte[] tar = LayerBuilder.create()
                    .entry(TarEntry.file("f", "x").withPaxRecord("LIBARCHIVE.creationtime", "1")).tar();

            assertThat(TarReading.paxRecords(TarReading.rawHeaders(tar).get(0).data()))
                    .containsOnlyKeys("LIBARCHIVE.creationtime");
        }
    }

    @Nested
    class HostileEntries {
        @Test
        void namesAreWrittenVerbatimIncludingEscapesAndAbsolutePaths() throws IOException {
            byte[] tar = LayerBuilder.create()
                    .entry(TarEntry.file("../../etc/evil", "x"))
                    .entry(TarEntry.file("/etc/passwd", "root::0:0::/:/bin/sh\n"))
                    .entry(TarEntry.file("./a/./b/../c", "y"))
                    .entry(TarEntry.hardlink("h", "/etc/shadow"))
                    .tar();

            assertThat(TarReading.rawHeaders(tar)).extracting(RawHeader::name)
                    .containsExactly("../../etc/evil", "/etc/passwd", "./a/./b/../c", "h");
        }

        @Test
        void symlinkThenFileThroughItAndDuplicatesKeepTheirOrder() throws IOException {
            byte[] tar = LayerBuilder.create()
                    .symlink("escape", "/etc")
                    .file("escape/passwd", "pwned")
                    .file("dup", "first")
                    .file("dup", "second")
                    .tar();

            List<Read> read = TarReading.read(tar);
            assertThat(read).extracting(r -> r.entry().getName())
                    .containsExactly("escape", "escape/passwd", "dup", "dup");
            assertThat(read.get(3).content()).asString().isEqualTo("second");
        }

        @Test
        void arbitraryTypeFlagsAndModesAreKept() {
            byte[] tar = LayerBuilder.create()
                    .entry(TarEntry.file("old", "x").withTypeFlag('\0').withMode(0100644))
                    .entry(TarEntry.file("weird", "").withTypeFlag('Z'))
                    .tar();

            assertThat(TarReading.rawHeaders(tar)).extracting(RawHeader::type).containsExactly('\0', 'Z');
        }
    }

    @Nested
    class Ordering {
        @Test
        void sortedWritesEntriesByName() throws IOException {
            byte[] tar = LayerBuilder.create().sorted()
                    .file("b", "").file("a/z", "").dir("a").file("A", "").tar();

            assertThat(TarReading.read(tar)).extracting(r -> r.entry().getName())
                    .containsExactly("A", "a/", "a/z", "b");
        }

        @Test
        void parentsAddsMissingDirectoriesBeforeFirstChild() throws IOException {
            byte[] tar = LayerBuilder.create().parents()
                    .file("x/y/z", "").dir("x/y", 0700).file("x/w", "").tar();

            List<Read> read = TarReading.read(tar);
            assertThat(read).extracting(r -> r.entry().getName())
                    .containsExactly("x/", "x/y/z", "x/y/", "x/w");
            assertThat(read.get(0).entry().getMode()).isEqualTo(0755);
        }
    }

    @Nested
    class Compressions {
        private final LayerBuilder builder = LayerBuilder.create().dir("etc").file("etc/hosts", "127.0.0.1 x\n");

        @Test
        void buildIsDeterministic() {
            assertThat(builder.build().digest()).isEqualTo(builder.build().digest());
            assertThat(builder.build(Compression.ZSTD).digest()).isEqualTo(builder.build(Compression.ZSTD).digest());
            assertThat(LayerBuilder.create().file("f", "x").tar())
                    .isEqualTo(LayerBuilder.create().file("f", "x").tar());
        }

        @Test
        void everyCompressionDecompressesToTheSameTarWhoseDigestIsTheDiffId() throws IOException {
            TestLayer none = builder.build(Compression.NONE);
            TestLayer gzip = builder.build(Compression.GZIP);
            TestLayer zstd = builder.build(Compression.ZSTD);

            assertThat(none.blob()).isEqualTo(none.tar());
            assertThat(new GzipCompressorInputStream(new ByteArrayInputStream(gzip.blob())).readAllBytes())
                    .isEqualTo(none.tar());
            assertThat(new ZstdCompressorInputStream(new ByteArrayInputStream(zstd.blob())).readAllBytes())
                    .isEqualTo(none.tar());
            assertThat(List.of(none, gzip, zstd)).extracting(TestLayer::diffId).containsOnly(Digest.sha256(none.tar()));
            assertThat(gzip.digest()).isEqualTo(Digest.sha256(gzip.blob()));
            assertThat(gzip.size()).isEqualTo(gzip.blob().length);
            assertThat(gzip.blob()[0]).isEqualTo((byte) 0x1f);
            assertThat(zstd.blob()[0]).isEqualTo((byte) 0x28);
        }

        @Test
        void mediaTypesFollowCompression() {
            assertThat(builder.build(Compression.NONE).ociMediaType()).isEqualTo(MediaTypes.OCI_LAYER);
            assertThat(builder.build(Compression.GZIP).descriptor().mediaType()).isEqualTo(MediaTypes.OCI_LAYER_GZIP);
            assertThat(builder.build(Compression.ZSTD).ociMediaType()).isEqualTo(MediaTypes.OCI_LAYER_ZSTD);
            assertThat(builder.build(Compression.GZIP).dockerMediaType()).isEqualTo(MediaTypes.DOCKER_LAYER_GZIP);
            assertThat(builder.build(Compression.NONE).dockerMediaType()).isEqualTo(MediaTypes.DOCKER_LAYER);
        }

        @Test
        void recompressedKeepsDiffIdAndChangesDigest() {
            TestLayer gzip = builder.build();
            TestLayer zstd = gzip.recompressed(Compression.ZSTD);
            assertThat(zstd.diffId()).isEqualTo(gzip.diffId());
            assertThat(zstd.digest()).isNotEqualTo(gzip.digest());
        }

        @Test
        void unknownCompressionIsRejected() {
            assertThatThrownBy(() -> builder.build(Compression.UNKNOWN))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("UNKNOWN");
        }
    }

    @Test
    void entryWithContentOfNonRegularTypeIsRejected() {
        assertThatThrownBy(() -> TarEntry.dir("d").withContent(new byte[] {1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("d/");
    }
}
