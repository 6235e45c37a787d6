package dev.berth.snapshot.archive;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Layers crafted to attack or confuse the applier — traversal, symlink and hardlink tricks, hostile
 * whiteouts and xattrs, headers that tar readers disagree about — applied in both modes (subclasses),
 * each asserting the resulting tree or a clear {@link InvalidLayerException} naming the entry, and in
 * every case that nothing outside the root (canary, fake /etc, lower layers) changed by one inode.
 */
abstract class HostileLayerSuite extends ConformanceSuite {

    /** Bytes of a tar built by hand: headers, records and raw blocks in exactly the given order. */
    static final class RawTar {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        RawTar header(String name, char type, long size, String link) {
            out.writeBytes(TestTar.header(name, type, 0644, size, link));
            return this;
        }

        RawTar header(byte[] header) {
            out.writeBytes(header);
            return this;
        }

        RawTar data(byte[] bytes) {
            out.writeBytes(TestTar.pad(bytes));
            return this;
        }

        RawTar data(String text) {
            return data(text.getBytes(StandardCharsets.UTF_8));
        }

        /** A PAX header of type {@code type} ('x' local, 'g' global) with {@code records}. */
        RawTar pax(char type, String name, Map<String, String> records) {
            Map<String, byte[]> raw = new LinkedHashMap<>();
            records.forEach((k, v) -> raw.put(k, v.getBytes(StandardCharsets.UTF_8)));
            byte[] body = TestTar.paxRecords(raw);
            return header(name, type, body.length, "").data(body);
        }

        RawTar gnuLong(char type, String value) {
            byte[] v = Arrays.copyOf(value.getBytes(StandardCharsets.UTF_8), value.length() + 1);
            return header("././@LongLink", type, v.length, "").data(v);
        }

        TestTar end() {
            return TestTar.create().raw(out.toByteArray());
        }
    }

    static RawTar raw() {
        return new RawTar();
    }

    /** {@code header} with byte {@code off} set to {@code b} and its checksum fixed. */
    static byte[] patched(byte[] header, int off, byte b) {
        header[off] = b;
        Arrays.fill(header, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte x : header) {
            sum += x & 0xff;
        }
        byte[] cs = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(cs, 0, header, 148, cs.length);
        return header;
    }

    static Map<String, String> records(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    // ---------------------------------------------------------------- path traversal
    @Nested
    class Traversal {
        @Test
        void dotDotAndAbsoluteNamesAreClampedToTheRoot() {
            var t = apply(tar().file("./../x", "x").file("a/../../y", "y").file("/abs/z", "z")
                    .file("../../../../../../etc/passwd", "p").dir("..").dir("../").file("./.././w", "w"));
            assertThat(t.keySet()).containsExactlyInAnyOrder("", "x", "y", "abs", "abs/z", "etc", "etc/passwd", "w");
        }

        @Test
        void emptyAndDotComponentsAreIgnored() {
            var t = apply(tar().file("a//b/./c", "c").file(".//./d", "d"));
            assertThat(t).containsKeys("a/b/c", "d");
        }

        @Test
        void backslashesAreLiteralNameCharacters() {
            var t = apply(tar().file("..\\..\\evil", "e").dir("a\\b").file("a\\b\\c", "c"));
            assertThat(t.keySet()).containsExactlyInAnyOrder("", "..\\..\\evil", "a\\b", "a\\b\\c");
        }

        @Test
        void paxPathOverridingTheUstarNameIsClamped() {
            var t = apply(raw().pax('x', "PaxHeaders/benign", records("path", "../../canary/secret"))
                    .header("benign", '0', 4, "").data("evil").end());
            assertThat(t).containsKey("canary/secret").doesNotContainKey("benign");
            assertThat(t.get("canary/secret").sha256()).isEqualTo(sha("evil"));
        }

        @Test
        void paxLinkpathWithTraversalResolvesInsideTheRoot() {
            var t = apply(raw().pax('x', "PaxHeaders/h", records("linkpath", "../../../../etc/hostname"))
                    .header("h", '1', 0, "benign").end(), base());
            assertThat(t.get("h").linkGroup()).isEqualTo("etc/hostname");
        }

        @Test
        void gnuLongNamesAndLinksWithTraversalAreClamped() {
            String longUp = "../".repeat(40) + "canary/secret2";
            var t = apply(raw().gnuLong('L', longUp).header("short", '0', 1, "").data("g")
                    .gnuLong('L', "x".repeat(120)).gnuLong('K', "../".repeat(40) + "etc/hostname")
                    .header("x", '1', 0, "").end(), base());
            assertThat(t.get("canary/secret2").sha256()).isEqualTo(sha("g"));
            assertThat(t.get("x".repeat(120)).linkGroup()).isEqualTo("etc/hostname");
        }

        @Test
        void utf8NamesAreKeptExactlyAndOtherBytesAreRejected() {
            String utf8 = "caf\u00e9-\u65e5\u672c"; // not ISO-8859-1: the header carries its UTF-8 bytes
            var t = apply(tar().file(utf8, "u").symlink("s", utf8).hardlink("h", utf8).gnuLongNames()
                    .file("d\u00e9j\u00e0-\u4e00/" + "x".repeat(120), "g"));
            assertThat(t).containsKeys(utf8, "d\u00e9j\u00e0-\u4e00/" + "x".repeat(120));
            assertThat(t.get("s").target()).isEqualTo(utf8);
            assertThat(t.get("h").linkGroup()).isEqualTo(t.get(utf8).linkGroup()).isNotNull();
            // "caf\xe9" in ISO-8859-1: Go's reader keeps the bytes, commons-compress made it "caf?"
            expectInvalid(raw().header("caf\u00e9", '0', 0, "").end(), null, "not valid UTF-8");
            expectInvalid(raw().header(patched(TestTar.header("s", '2', 0777, 0, "tX"), 158, (byte) 0xe9)).end(), null,
                    "not valid UTF-8");
            expectInvalid(tar().file("x", "x", a -> a.pax.put("path", new byte[] {'b', 'a', 'd', (byte) 0xff})), null,
                    "PAX path is not valid UTF-8");
        }

        @Test
        void nameWithNulByteIsRejected() {
            expectInvalid(raw().pax('x', "PaxHeaders/a", records("path", "a\0/../../x")).header("a", '0', 0, "").end(),
                    "a\0/../../x", "NUL");
        }

        @Test
        void componentLongerThanNameMaxIsRejected() {
            String name = "d/" + "n".repeat(256);
            expectInvalid(tar().file(name, "x"), name, "longer than 255 bytes");
            expectInvalid(tar().file("f", "x").hardlink("h", "x".repeat(300)), "h", "longer than 255 bytes");
        }

        @Test
        void symlinkTargetLongerThanPathMaxIsRejected() {
            expectInvalid(tar().symlink("s", "t/".repeat(2100)), "s", "longer than 4095 bytes");
        }

        @Test
        void pathsLongerThanPathMaxApply() {
            String dir = ("p".repeat(250) + "/").repeat(18); // 4518 bytes
            ApplyHarness h = harness();
            h.apply(tar().file(dir + "leaf", "deep").file(dir + "leaf2", "deep2").hardlink(dir + "h", dir + "leaf")
                    .file("top", "t"));
            h.assertOutsideUntouched();
            // Java's file APIs cannot open paths beyond PATH_MAX; find(1) walks them relative to each directory
            ProcessBuilder pb = new ProcessBuilder("find", h.written().toString(), "-type", "f", "-printf",
                    "%f %n %s\n");
            try {
                Process p = pb.start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                p.waitFor();
                assertThat(out.lines().sorted()).containsExactly("h 2 4", "leaf 2 4", "leaf2 1 5", "top 1 1");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }

    // ---------------------------------------------------------------- symlinks and hardlinks
    @Nested
    class Links {
        @Test
        void fileThroughSymlinkToSlashLandsInTheRoot() {
            var t = apply(tar().symlink("a", "/").file("a/etc/passwd", "p").dir("a/a/a/newdir"));
            assertThat(t.get("etc/passwd").sha256()).isEqualTo(sha("p"));
            assertThat(t).containsKey("newdir");
        }

        @Test
        void fileThroughSymlinkClimbingUpLandsInTheRoot() {
            var t = apply(tar().dir("x/y").symlink("x/y/up", "../../../..").file("x/y/up/canary/secret", "s")
                    .symlink("rel", "../../..").file("rel/etc/passwd", "p"));
            assertThat(t).containsKeys("canary/secret", "etc/passwd");
        }

        @Test
        void symlinkChainAcrossLayersStaysInside() {
            ApplyHarness probe = harness();
            var t = apply(tar().symlink("l2", "../.." + probe.canaryPath()).file("l1/secret", "s").dir("l1/dir")
                    .symlink("l3", "l4").symlink("l4", "../canary").file("l3/secret", "s3"),
                    tar().symlink("l1", "l2"));
            String inRoot = probe.canaryPath().substring(1);
            assertThat(t).containsKeys(inRoot + "/secret", inRoot + "/dir", "canary/secret");
            assertThat(t.get("l1").type()).isEqualTo("symlink");
            probe.assertOutsideUntouched();
        }

        @Test
        void directoryEntryReplacesASymlinkToOutsideOfTheSameLayer() {
            ApplyHarness probe = harness();
            var t = apply(tar().symlink("esc", probe.canaryPath()).dir("esc", a -> a.mode(0700)).file("esc/f", "f")
                    .symlink("esc2", "../canary/dir").file("esc2", "now a file"));
            probe.assertOutsideUntouched();
            assertThat(t.get("esc").type()).isEqualTo("dir");
            assertThat(t.get("esc").mode()).isEqualTo(0700);
            assertThat(t).containsKey("esc/f");
            assertThat(t.get("esc2").type()).isEqualTo("file");
        }

        @Test
        void hardlinkToASymlinkPointingOutsideLinksTheSymlink() {
            String target = "../canary/secret"; // from the root, the real canary beside it
            var t = apply(tar().symlink("s", target).hardlink("h", "s"), tar().symlink("lower", target)
                    .file("other", "o"));
            assertThat(t.get("h").type()).isEqualTo("symlink");
            assertThat(t.get("h").target()).isEqualTo(target);
            assertThat(t.get("h").linkGroup()).isEqualTo("h");
        }

        @Test
        void hardlinkToALowerSymlinkPointingOutsideLinksTheSymlink() {
            String target = "../canary/secret";
            var t = apply(tar().hardlink("h", "lower"), tar().symlink("lower", target));
            assertThat(t.get("h").type()).isEqualTo("symlink");
            assertThat(t.get("h").target()).isEqualTo(target);
        }

        @Test
        void hardlinkTargetsOutsideTheRootResolveInsideIt() {
            var t = apply(tar().hardlink("pw", "../../../etc/hostname").hardlink("pw2", "/../etc/hostname"),
                    base());
            assertThat(t.get("pw").linkGroup()).isEqualTo("etc/hostname");
            assertThat(t.get("pw2").linkGroup()).isEqualTo("etc/hostname");
            expectInvalid(tar().hardlink("pw", "/etc/passwd"), "pw", "does not exist");
        }

        @Test
        void hardlinkThroughALowerSymlinkToOutsideFindsNothing() {
            expectInvalid(tar().hardlink("h", "esc/secret"), "h", "does not exist", tar().symlink("esc", "../canary"));
            expectInvalid(tar().symlink("esc", "../canary").hardlink("h", "esc/dir/inner"), "h", "does not exist");
        }

        @Test
        void hardlinkToAPathWhitedOutByALowerLayerFails() {
            expectInvalid(tar().hardlink("h", "etc/hostname"), "h", "does not exist", base(),
                    tar().whiteout("etc/hostname"));
        }

        @Test
        void hardlinkToAFileBelowAWhitedOutDirectoryFails() {
            expectInvalid(tar().whiteout("d").hardlink("h", "d/old"), "h", "does not exist", base());
        }

        @Test
        void hardlinkToALowerDirectoryFails() {
            expectInvalid(tar().hardlink("h", "usr/lib"), "h", "hardlink to directory", base());
            expectInvalid(tar().hardlink("h", "lib/"), "h", "hardlink to directory", base(),
                    tar().symlink("lib", "lib2").dir("lib"));
        }

        @Test
        void hardlinkToTheRootFails() {
            expectInvalid(tar().hardlink("h", "a/.."), "h", "root directory");
        }

        @Test
        void emptySymlinkTargetIsRejected() {
            expectInvalid(tar().symlink("s", ""), "s", "empty target");
        }
    }

    // ---------------------------------------------------------------- whiteouts
    @Nested
    class Whiteouts {
        @Test
        void whiteoutNamesThatAreNotNamesAreRejected() {
            expectInvalid(tar().file("d/.wh...", ""), "d/.wh...", "invalid whiteout name", base());
            expectInvalid(tar().file(".wh..", ""), ".wh..", "invalid whiteout name", base());
            expectInvalid(tar().file("d/.wh.", ""), "d/.wh.", "invalid whiteout name", base());
        }

        @Test
        void dotDotAfterAWhiteoutNameIsCleanedAwayFirst() {
            var t = apply(tar().dir("d/.wh.../..", a -> a.mode(0711)).file("d/sub/.wh.x/../.wh.deep/..", "f"),
                    base());
            assertThat(t.get("d").mode()).isEqualTo(0711);
            assertThat(t).containsKey("d/old").doesNotContainKey("d/sub/deep");
            assertThat(t.get("d/sub").type()).isEqualTo("file");
        }

        @Test
        void whiteoutsThroughSymlinksToOutsideDeleteNothingOutside() {
            ApplyHarness probe = harness();
            String outside = probe.canaryPath();
            var t = apply(tar().whiteout("abs/secret").whiteout("abs/dir").opaque("abs").whiteout("rel/secret")
                    .opaque("rel/dir").file("../../canary/.wh.secret", "").file(outside + "/.wh.dir", "")
                    .whiteout("up/secret").opaque("up/dir").whiteout("up/dir").symlink("up2", "../canary")
                    .whiteout("up2/secret").whiteout("up2/dir"),
                    base().symlink("abs", outside).symlink("rel", "../../../canary").symlink("up", "../canary"));
            assertThat(t).containsKeys("abs", "rel", "up", "up2", "d/old", "etc/hostname");
            probe.assertOutsideUntouched();
        }

        @Test
        void whiteoutThroughASymlinkInsideTheRootRemovesTheLinkedPath() {
            var t = apply(tar().whiteout("lnk/old").opaque("lnk/sub"), base().symlink("lnk", "d"));
            assertThat(t).containsKeys("lnk", "d", "d/sub").doesNotContainKeys("d/old", "d/sub/deep");
        }

        @Test
        void whiteoutsBelowAFileOrThroughASymlinkLoopHideNothing() {
            var t = apply(tar().whiteout("etc/hostname/x").opaque("etc/hostname").whiteout("loop/x").opaque("loop")
                    .file("after", "a"), base().symlink("loop", "loop2").symlink("loop2", "loop"));
            assertThat(t).containsKeys("etc/hostname", "loop", "loop2", "after");
            assertThat(t.keySet()).noneMatch(k -> k.contains(".wh."));
        }

        @Test
        void whiteoutContentIsSkipped() {
            byte[] junk = new byte[70_000];
            new java.util.Random(7).nextBytes(junk);
            var t = apply(tar().file("etc/.wh.hostname", junk, null).file(".wh..wh..opq2", junk, null)
                    .file("after", "a"), base());
            assertThat(t).doesNotContainKey("etc/hostname").containsKey("after");
            assertThat(t.get("after").sha256()).isEqualTo(sha("a"));
        }

        @Test
        void aufsMetadataIsSkippedWithEverythingBelowIt() {
            var t = apply(tar().dir(".wh..wh.plnk").file(".wh..wh.plnk/1234.5678", "link store")
                    .file(".wh..wh.aufs", "").dir("d/.wh..wh.orph").file("d/.wh..wh.orph/x", "x")
                    .file("kept", "k"), base());
            assertThat(t.keySet()).noneMatch(k -> k.contains(".wh."));
            assertThat(t).containsKeys("kept", "d/old");
        }

        @Test
        void entriesBelowAPlainWhiteoutNameAreRejected() {
            expectInvalid(tar().file(".wh.x/y", "y"), ".wh.x/y", "used as a directory");
        }

        @Test
        void characterDevice00IsAWhiteoutInBothModes() {
            var t = apply(tar().device("etc/hostname", '3', 0, 0, null).device("ghost", '3', 0, 0, null)
                    .device("d/sub", '3', 0, 0, null).device("null", '3', 1, 3, null), base());
            assertThat(t).doesNotContainKeys("etc/hostname", "ghost", "d/sub", "d/sub/deep")
                    .containsKeys("etc", "d/old");
            assertThat(t.get("null").type()).isEqualTo("char");
        }

        @Test
        void whiteoutAndReAddOfTheSameFileInOneLayerKeepsTheNewFile() {
            var t = apply(tar().file("etc/hostname", "new").whiteout("etc/hostname").opaque("etc"), base());
            assertThat(t.get("etc/hostname").sha256()).isEqualTo(sha("new"));
        }
    }

    // ---------------------------------------------------------------- metadata
    @Nested
    class Metadata {
        @Test
        void largeIdsFromPaxAndTheLargestValidId() {
            var t = apply(tar().file("a", "a", a -> a.owner(2097152, 4294967294L)).dir("b", a -> a.owner(1L << 31, 7)));
            assertThat(Integer.toUnsignedLong(t.get("a").uid())).isEqualTo(2097152);
            assertThat(Integer.toUnsignedLong(t.get("a").gid())).isEqualTo(4294967294L);
            assertThat(Integer.toUnsignedLong(t.get("b").uid())).isEqualTo(1L << 31);
        }

        @Test
        void idMinusOneIsRejected() {
            expectInvalid(tar().file("a", "a", a -> a.owner(4294967295L, 0)), "a", "uid/gid out of range");
        }

        @Test
        void setuidFileWithCapabilityAndSetgidDirectoryKeepBoth() {
            var t = apply(tar().file("ping", "elf", a -> a.mode(04755).owner(1000, 1000)
                    .xattr("security.capability", CAPABILITY)).dir("shared", a -> a.mode(02775).owner(5, 6))
                    .dir("tmp", a -> a.mode(01777)).file("sgid", "x", a -> a.mode(02755).owner(0, 50)));
            assertThat(t.get("ping").mode()).isEqualTo(04755);
            assertThat(t.get("ping").xattrs()).containsEntry("security.capability",
                    HexFormat.of().formatHex(CAPABILITY));
            assertThat(t.get("shared").mode()).isEqualTo(02775);
            assertThat(t.get("tmp").mode()).isEqualTo(01777);
            assertThat(t.get("sgid").mode()).isEqualTo(02755);
        }

        @Test
        void negativeFractionalAndFarFutureTimes() {
            var t = apply(tar().file("neg", "n", a -> a.pax("mtime", "-1.25"))
                    .file("old", "o", a -> a.pax("mtime", "-2000000000.5"))
                    .file("future", "f", a -> a.pax("mtime", "4102444800.000000001"))
                    .symlink("slink", "x", a -> a.pax("mtime", "-86400.75"))
                    .dir("dir", a -> a.pax("mtime", "-1")));
            assertThat(t.get("neg").mtimeSec()).isEqualTo(-2);
            assertThat(t.get("neg").mtimeNsec()).isEqualTo(750_000_000);
            assertThat(t.get("old").mtimeSec()).isEqualTo(-2000000001);
            assertThat(t.get("future").mtimeSec()).isEqualTo(4102444800L);
            assertThat(t.get("future").mtimeNsec()).isEqualTo(1);
            assertThat(t.get("slink").mtimeSec()).isEqualTo(-86401);
            assertThat(t.get("dir").mtimeSec()).isEqualTo(-1);
        }

        @Test
        void timesBeyondWhatTheFileSystemStoresAreClampedNotFatal() {
            var t = apply(tar().file("far", "f", a -> a.pax("mtime", "99999999999")).file("after", "a"));
            assertThat(t.get("far").mtimeSec()).isGreaterThan(4102444800L);
            assertThat(t).containsKey("after");
        }

        @Test
        void unparseableTimeIsAnInvalidLayer() {
            expectInvalid(tar().file("ok", "o").file("bad", "b", a -> a.pax("mtime", "99999999999999999999.5")),
                    null, "Corrupted PAX header");
        }

        @Test
        void xattrsOverlayfsInterpretsNeverTakeEffect() {
            var t = apply(tar()
                    .dir("d", a -> a.xattr("trusted.overlay.redirect", "/usr").xattr("trusted.overlay.opaque", "y")
                            .xattr("trusted.overlay.origin", new byte[] {0, 1, 2})
                            .xattr("user.overlay.redirect", "/etc").xattr("user.overlay.opaque", "y"))
                    .file("d/old", "o2", a -> a.xattr("trusted.overlay.metacopy", "")
                            .xattr("trusted.overlay.whiteout", "y").xattr("trusted.overlay.upper", "u"))
                    .dir("usr", a -> a.xattr("trusted.overlay.opaque", "x")), base());
            assertThat(t).containsKeys("d/sub/deep", "usr/lib/libc.so");
            assertThat(t.get("d/old").sha256()).isEqualTo(sha("o2"));
            assertThat(t.values()).allSatisfy(n -> assertThat(n.xattrs().keySet())
                    .noneMatch(k -> k.startsWith("trusted.overlay.") || k.startsWith("user.overlay.")));
        }

        @Test
        void otherTrustedAndUserXattrsAreKept() {
            var t = apply(tar().file("f", "f", a -> a.xattr("trusted.berth.test", new byte[] {1, 2, 0, 3})
                    .xattr("user.empty", new byte[0]).xattr("user.k", "v")));
            assertThat(t.get("f").xattrs()).containsEntry("trusted.berth.test", "01020003")
                    .containsEntry("user.k", hex("v")).containsEntry("user.empty", "");
        }

        @Test
        void xattrNameWithNulIsRejected() {
            expectInvalid(tar().file("f", "f", a -> a.xattr("trusted.overlay\0.opaque", "y")), "f", "NUL");
        }

        @Test
        void xattrsTheFileSystemRefusesAreAnInvalidLayer() {
            expectInvalid(tar().file("big", "b", a -> a.xattr("user.big", new byte[70_000])), "big", "E2BIG");
            expectInvalid(tar().file("acl", "a", a -> a.xattr("system.posix_acl_access", new byte[] {2, 0, 0, 0, 9})),
                    "acl", "EINVAL");
            expectInvalid(tar().dir("d", a -> a.xattr("user." + "n".repeat(300), "v")), "d/", "ERANGE");
        }

        @Test
        void libarchiveXattrRecordsAreIgnoredLikeContainerdDoes() {
            var t = apply(tar().file("f", "f", a -> a.pax("LIBARCHIVE.xattr.security.capability", "AQAAAv/+AAA=")
                    .pax("LIBARCHIVE.xattr.user.x", "eA==")));
            assertThat(t.get("f").xattrs()).isEmpty();
        }

        @Test
        void posixAclXattrsAreKept() {
            // version 2; user::rw-, user:1000:r--, group::r--, mask::r--, other::r--
            byte[] acl = HexFormat.of().parseHex("02000000" + "01000600ffffffff" + "02000400e8030000"
                    + "04000400ffffffff" + "10000400ffffffff" + "20000400ffffffff");
            var t = apply(tar().file("f", "f", a -> a.mode(0644).xattr("system.posix_acl_access", acl)));
            assertThat(t.get("f").xattrs()).containsEntry("system.posix_acl_access", HexFormat.of().formatHex(acl));
            assertThat(t.get("f").mode()).isEqualTo(0644);
        }
    }

    // ---------------------------------------------------------------- structure and tar dialects
    @Nested
    class Structure {
        @Test
        void filesBeforeTheirParentDirectoryEntries() {
            var t = apply(tar().file("p/q/f", "f").dir("p/q", a -> a.mode(0711).owner(3, 3))
                    .dir("p", a -> a.mode(0700).owner(5, 5)));
            assertThat(t.get("p").mode()).isEqualTo(0700);
            assertThat(t.get("p").uid()).isEqualTo(5);
            assertThat(t.get("p/q").mode()).isEqualTo(0711);
            assertThat(t).containsKey("p/q/f");
        }

        @Test
        void missingParentsAreCreated0755RootOwned() {
            var t = apply(tar().file("n/e/w", "w", a -> a.owner(9, 9)));
            assertThat(t.get("n").mode()).isEqualTo(0755);
            assertThat(t.get("n/e").uid()).isZero();
        }

        @Test
        void duplicateEntriesOfChangingTypesLastWins() {
            var t = apply(tar().symlink("x", "/etc").file("x", "file").dir("x").file("x/in", "in")
                    .dir("y").file("y/in", "in").symlink("y", "x").file("z", "1").file("z", "2").file("z", "3"),
                    base());
            assertThat(t.get("x").type()).isEqualTo("dir");
            assertThat(t).containsKey("x/in");
            assertThat(t.get("y").type()).isEqualTo("symlink");
            assertThat(t.get("z").sha256()).isEqualTo(sha("3"));
        }

        @Test
        void contentLessEntriesNeverReadTheirSizeFieldAsContent() {
            // Go's archive/tar (containerd, Docker, scanners) reads no content for these types, so the block
            // after each header is the next header; a reader that trusted the size would skip "hidden*"
            byte[] hidden = TestTar.header("hidden", '0', 0644, 0, "");
            var t = apply(raw().header("s", '2', 512, "t").header(hidden)
                    .header("f", '0', 0, "").header("h", '1', 512, "f").header(TestTar.header("hidden1", '0', 0644, 0, ""))
                    .header("p", '6', 512, "").header(TestTar.header("hidden2", '0', 0644, 0, ""))
                    .header("d/", '5', 512, "").header(TestTar.header("hidden3", '0', 0644, 0, ""))
                    .end());
            assertThat(t).containsKeys("s", "h", "p", "d", "hidden", "hidden1", "hidden2", "hidden3");
        }

        @Test
        void regularFileNamedLikeADirectoryIsAFileWithItsContent() {
            var t = apply(raw().header("foo/", '0', 5, "").data("hello").header("after", '0', 0, "").end());
            assertThat(t.get("foo").type()).isEqualTo("file");
            assertThat(t.get("foo").sha256()).isEqualTo(sha("hello"));
            assertThat(t).containsKey("after");
        }

        @Test
        void oldGnuSparseFileNamedLikeADirectoryIsAFile() {
            byte[] h = TestTar.header("gs/", 'S', 0644, 512, "");
            put(h, 257, "ustar  \0".getBytes(StandardCharsets.US_ASCII));
            octal(h, 386, 12, 0);
            octal(h, 398, 12, 512);
            octal(h, 483, 12, 4096);
            checksum(h);
            byte[] data = new byte[512];
            Arrays.fill(data, (byte) 's');
            var t = apply(raw().header(h).data(data).header("after", '0', 0, "").end());
            assertThat(t.get("gs").type()).isEqualTo("file");
            byte[] expected = new byte[4096]; // a map without an end marker: the file ends in a hole
            Arrays.fill(expected, 0, 512, (byte) 's');
            assertThat(t.get("gs").sha256()).isEqualTo(TreeSnapshot.sha256(expected));
            assertThat(t).containsKey("after");
        }

        @Test
        void oldStyleRegularFileWithTrailingSlashIsADirectory() {
            var t = apply(raw().header("olddir/", '\0', 0, "").header("olddir/f", '\0', 1, "").data("f").end());
            assertThat(t.get("olddir").type()).isEqualTo("dir");
            assertThat(t.get("olddir/f").type()).isEqualTo("file");
        }

        @Test
        void globalPaxHeadersAreIgnored() {
            var t = apply(raw().pax('g', "pax_global_header/", records("path", "../../evil", "mtime", "5",
                            "uid", "77", "SCHILY.xattr.user.global", "g", "size", "0"))
                    .header("a", '0', 1, "").data("a").header("b/", '5', 0, "").end());
            assertThat(t.keySet()).containsExactlyInAnyOrder("", "a", "b");
            assertThat(t.get("a").uid()).isZero();
            assertThat(t.get("a").xattrs()).isEmpty();
            assertThat(t.get("a").mtimeSec()).isEqualTo(TestTar.DEFAULT_MTIME.getEpochSecond());
        }

        @Test
        void metaHeaderSequencesTarReadersDisagreeOnAreRejected() {
            expectInvalid(raw().pax('x', "P", records("path", "first")).pax('x', "P", records("path", "second"))
                    .header("f", '0', 0, "").end(), null, "two 'x' meta headers");
            expectInvalid(raw().gnuLong('L', "first").gnuLong('L', "second").header("f", '0', 0, "").end(), null,
                    "two 'L' meta headers");
            expectInvalid(raw().gnuLong('L', "gnu").pax('x', "P", records("path", "pax")).header("f", '0', 0, "")
                    .end(), null, "both a GNU long name and a PAX path");
            expectInvalid(raw().pax('x', "P", records("size", "512")).header("s", '2', 0, "t")
                    .header(TestTar.header("hidden", '0', 0644, 0, "")).end(), null, "PAX size 512");
            expectInvalid(raw().pax('x', "P", records("path", "x")).pax('g', "G", records("mtime", "1"))
                    .header("f", '0', 0, "").end(), null, "global header follows a meta header");
            expectInvalid(raw().pax('x', "P", records("path", "dir/")).header("f", '0', 3, "").data("abc").end(),
                    null, "directory name");
        }

        @Test
        void oldGnuSparseFileWithExtensionHeaders() {
            // six 512-byte extents (four in the header, two in one extension block) of an 64 KiB file
            long real = 65536;
            long[] offsets = {0, 8192, 16384, 24576, 40960, 65024};
            byte[] h = TestTar.header("gsparse", 'S', 0644, 512L * offsets.length, "");
            put(h, 257, "ustar  \0".getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 4; i++) {
                octal(h, 386 + i * 24, 12, offsets[i]);
                octal(h, 386 + i * 24 + 12, 12, 512);
            }
            h[482] = 1;
            octal(h, 483, 12, real);
            checksum(h);
            byte[] ext = new byte[512];
            for (int i = 4; i < offsets.length; i++) {
                octal(ext, (i - 4) * 24, 12, offsets[i]);
                octal(ext, (i - 4) * 24 + 12, 12, 512);
            }
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            byte[] expected = new byte[(int) real];
            for (int i = 0; i < offsets.length; i++) {
                byte[] block = new byte[512];
                Arrays.fill(block, (byte) ('a' + i));
                data.writeBytes(block);
                System.arraycopy(block, 0, expected, (int) offsets[i], 512);
            }
            var t = apply(raw().header(h).header(ext).data(data.toByteArray()).header("after", '0', 1, "")
                    .data("z").end());
            assertThat(t.get("gsparse").sha256()).isEqualTo(TreeSnapshot.sha256(expected));
            assertThat(t).containsKey("after");
        }

        @Test
        void paxSparse01FileAppliesAndBadSparseMapsAreRejected() {
            byte[] data = new byte[1024];
            Arrays.fill(data, 0, 512, (byte) 'a');
            Arrays.fill(data, 512, 1024, (byte) 'b');
            // GNU tar ends a map with an empty extent at the real size
            var t = apply(sparse01("s01", 8192, "0,512,4096,512,8192,0", data).end());
            byte[] expected = new byte[8192];
            Arrays.fill(expected, 0, 512, (byte) 'a');
            Arrays.fill(expected, 4096, 4608, (byte) 'b');
            assertThat(t.get("s01").sha256()).isEqualTo(TreeSnapshot.sha256(expected));
            var noEnd = apply(sparse01("s01", 8192, "0,512,4096,512", data).end()); // Go's reader accepts it
            assertThat(noEnd.get("s01").sha256()).isEqualTo(TreeSnapshot.sha256(expected));
            expectInvalid(sparse01("rev", 8192, "4096,512,0,512,8192,0", data).end(), "rev", "out of order");
            // (commons-compress rejects these two itself, before the entry is named)
            expectInvalid(sparse01("ovl", 8192, "0,600,512,424,8192,0", data).end(), null, "overlap");
            expectInvalid(sparse01("big", 1024, "0,512,4096,512,1024,0", data).end(), null, "real size");
        }

        private RawTar sparse01(String name, long realSize, String map, byte[] data) {
            return raw().pax('x', "PaxHeaders/" + name, records("GNU.sparse.size", Long.toString(realSize),
                            "GNU.sparse.numblocks", Long.toString(map.split(",").length / 2), "GNU.sparse.map", map,
                            "GNU.sparse.name", name))
                    .header("GNUSparseFile.0/" + name, '0', data.length, "").data(data);
        }

        @Test
        void typesContainerdDoesNotHandleAreRejected() {
            expectInvalid(raw().header("dump/", 'D', 0, "").end(), "dump/", "unsupported tar entry type 'D'");
            expectInvalid(raw().header("multi", 'M', 0, "").end(), "multi", "unsupported tar entry type 'M'");
        }

        private static void put(byte[] h, int off, byte[] v) {
            System.arraycopy(v, 0, h, off, v.length);
        }

        private static void octal(byte[] h, int off, int len, long v) {
            String s = String.format("%0" + (len - 1) + "o", v);
            put(h, off, s.getBytes(StandardCharsets.US_ASCII));
        }

        private static void checksum(byte[] h) {
            Arrays.fill(h, 148, 156, (byte) ' ');
            long sum = 0;
            for (byte b : h) {
                sum += b & 0xff;
            }
            put(h, 148, String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII));
        }
    }

}
