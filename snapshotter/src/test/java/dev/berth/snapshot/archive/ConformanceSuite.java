package dev.berth.snapshot.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.berth.snapshot.archive.ApplyHarness.Mode;
import dev.berth.snapshot.archive.TreeSnapshot.Node;

/**
 * The changeset rules, each as crafted lower layers plus a layer under test, asserting the merged view
 * and that nothing outside the root changed. Runs once per mode (subclasses); in overlay mode every
 * case is also applied naively and both merged views must be identical.
 */
abstract class ConformanceSuite {
    static final byte[] CAPABILITY = {0x01, 0x00, 0x00, 0x02, (byte) 0xff, (byte) 0xfe, 0x00, 0x00, (byte) 0x80,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

    abstract Mode mode();

    private final java.util.List<ApplyHarness> harnesses = new java.util.ArrayList<>();

    @AfterEach
    void cleanUp() {
        harnesses.forEach(ApplyHarness::close);
    }

    /** A fresh harness of this suite's mode. */
    ApplyHarness harness() {
        ApplyHarness h = new ApplyHarness(mode());
        harnesses.add(h);
        return h;
    }

    /**
     * Applies {@code lowers} then {@code layer}; returns the merged view, after checking that nothing
     * outside changed and, in overlay mode, that the naive application gives the same view.
     */
    TreeMap<String, Node> apply(TestTar layer, TestTar... lowers) {
        return apply(h -> { }, layer, lowers);
    }

    TreeMap<String, Node> apply(Consumer<ApplyHarness> withCanary, TestTar layer, TestTar... lowers) {
        ApplyHarness h = harness();
        for (TestTar l : lowers) {
            h.lower(l);
        }
        h.apply(layer);
        TreeMap<String, Node> merged = h.merged();
        h.assertOutsideUntouched();
        if (mode() == Mode.OVERLAY) {
            ApplyHarness naive = new ApplyHarness(Mode.NAIVE);
            harnesses.add(naive);
            for (TestTar l : lowers) {
                naive.lower(l);
            }
            naive.apply(layer);
            assertThat(TreeSnapshot.withoutDirectoryMtimes(merged))
                    .as("overlay merged view equals the naive result")
                    .isEqualTo(TreeSnapshot.withoutDirectoryMtimes(naive.merged()));
        }
        return merged;
    }

    /**
     * Applies lowers, then expects {@code layer} to fail with an InvalidLayerException naming {@code entry}
     * ({@code null}: a stream-level error no entry is to blame for).
     */
    void expectInvalid(TestTar layer, String entry, String messagePart, TestTar... lowers) {
        ApplyHarness h = harness();
        for (TestTar l : lowers) {
            h.lower(l);
        }
        assertThatThrownBy(() -> h.apply(layer))
                .isInstanceOf(InvalidLayerException.class)
                .hasMessageContaining(messagePart)
                .satisfies(e -> {
                    if (entry != null) {
                        assertThat(((InvalidLayerException) e).entryName()).contains(entry);
                    }
                });
        h.assertOutsideUntouched();
    }

    static TestTar tar() {
        return TestTar.create();
    }

    static String sha(String content) {
        return TreeSnapshot.sha256(content.getBytes(StandardCharsets.UTF_8));
    }

    static TestTar base() {
        return tar().dir("etc").file("etc/hostname", "lower")
                .dir("usr").dir("usr/lib").file("usr/lib/libc.so", "libc")
                .symlink("lib", "usr/lib")
                .symlink("abslib", "/usr/lib")
                .dir("d", a -> a.mode(0750).owner(10, 20).xattr("user.lower", "yes"))
                .file("d/old", "old").dir("d/sub").file("d/sub/deep", "deep");
    }

    // ---------------------------------------------------------------- whiteouts
    @Test
    void whiteoutRemovesLowerFile() {
        var t = apply(tar().whiteout("etc/hostname"), base());
        assertThat(t).doesNotContainKey("etc/hostname").containsKey("etc");
    }

    @Test
    void whiteoutRemovesLowerDirectoryWithAllItsContent() {
        var t = apply(tar().whiteout("d"), base());
        assertThat(t.keySet()).noneMatch(k -> k.equals("d") || k.startsWith("d/"));
    }

    @Test
    void whiteoutOfMissingPathCreatesNothing() {
        var t = apply(tar().whiteout("nothing").whiteout("nodir/x").whiteout("d/none"), base());
        assertThat(t).doesNotContainKeys("nothing", "nodir", "nodir/x", "d/none");
        assertThat(t.keySet()).noneMatch(k -> k.contains(".wh."));
    }

    @Test
    void whiteoutThenRecreateKeepsOnlyNewContent() {
        var t = apply(tar().whiteout("d").dir("d", a -> a.mode(0700)).file("d/new", "new")
                .whiteout("etc/hostname").file("etc/hostname", "new-host"), base());
        assertThat(t).containsKeys("d", "d/new").doesNotContainKeys("d/old", "d/sub", "d/sub/deep");
        assertThat(t.get("d").mode()).isEqualTo(0700);
        assertThat(t.get("d").xattrs()).doesNotContainKey("user.lower");
        assertThat(t.get("etc/hostname").sha256()).isEqualTo(sha("new-host"));
    }

    @Test
    void whiteoutAfterSameLayerContentOnlyHidesLowerContent() {
        var t = apply(tar().dir("d").file("d/new", "new").dir("d/sub").file("d/sub/mine", "m").whiteout("d"),
                base());
        assertThat(t).containsKeys("d", "d/new", "d/sub", "d/sub/mine")
                .doesNotContainKeys("d/old", "d/sub/deep");
    }

    @Test
    void opaqueMarkerBeforeEntriesHidesLowerChildren() {
        var t = apply(tar().dir("d").opaque("d").file("d/new", "new"), base());
        assertThat(t).containsKeys("d", "d/new").doesNotContainKeys("d/old", "d/sub");
    }

    @Test
    void opaqueMarkerAfterEntriesKeepsSameLayerEntries() {
        var t = apply(tar().dir("d").file("d/new", "new").dir("d/sub").file("d/sub/mine", "m").opaque("d"),
                base());
        assertThat(t).containsKeys("d", "d/new", "d/sub", "d/sub/mine")
                .doesNotContainKeys("d/old", "d/sub/deep");
    }

    @Test
    void opaqueMarkerAloneEmptiesALowerDirectoryAndKeepsItsMetadata() {
        var t = apply(tar().opaque("d"), base());
        assertThat(t.keySet().stream().filter(k -> k.startsWith("d/"))).isEmpty();
        assertThat(t.get("d").mode()).isEqualTo(0750);
        assertThat(t.get("d").uid()).isEqualTo(10);
        assertThat(t.get("d").xattrs()).containsEntry("user.lower", hex("yes"));
    }

    @Test
    void opaqueMarkerForMissingDirectoryCreatesNothing() {
        var t = apply(tar().opaque("ghost"), base());
        assertThat(t).doesNotContainKey("ghost");
    }

    @Test
    void opaqueRootHidesEveryLowerEntry() {
        var t = apply(tar().dir("etc").file("etc/mine", "m").file("top", "t").opaque(""), base());
        assertThat(t.keySet()).containsExactlyInAnyOrder("", "etc", "etc/mine", "top");
    }

    @Test
    void whiteoutNamesNeverMaterialize() {
        var t = apply(tar().file(".wh..wh.plnk", "aufs").file("d/.wh..wh.aufs", "x").whiteout("d/old")
                .opaque("usr"), base());
        assertThat(t.keySet()).noneMatch(k -> k.contains(".wh."));
    }

    @Test
    void whiteoutInWhiteoutedLowerLayerStaysHidden() {
        var t = apply(tar().file("other", "x"), base(), tar().whiteout("d/old").whiteout("etc"));
        assertThat(t).doesNotContainKeys("d/old", "etc", "etc/hostname").containsKeys("d/sub/deep", "other");
    }

    @Test
    void directoryRecreatedInLaterLayerAfterLowerWhiteoutIsEmpty() {
        var t = apply(tar().dir("d").file("d/again", "a"), base(), tar().whiteout("d"));
        assertThat(t).containsKeys("d", "d/again").doesNotContainKeys("d/old", "d/sub");
    }

    // ---------------------------------------------------------------- hardlinks
    @Test
    void hardlinkWithinLayerSharesTheInode() {
        var t = apply(tar().file("a", "data").hardlink("b", "a").dir("x").hardlink("x/c", "/a"));
        assertThat(t.get("b").linkGroup()).isEqualTo("a");
        assertThat(t.get("x/c").linkGroup()).isEqualTo("a");
        assertThat(t.get("b").sha256()).isEqualTo(sha("data"));
    }

    @Test
    void hardlinkToLowerFileCopiesItUp() {
        var t = apply(tar().hardlink("etc/hostname2", "etc/hostname").hardlink("viaSymlink", "lib/libc.so"),
                base());
        assertThat(t.get("etc/hostname2").linkGroup()).isEqualTo("etc/hostname");
        assertThat(t.get("etc/hostname2").sha256()).isEqualTo(sha("lower"));
        assertThat(t.get("viaSymlink").linkGroup()).isEqualTo("usr/lib/libc.so");
    }

    @Test
    void hardlinkChainsShareOneInode() {
        var t = apply(tar().file("a", "x").hardlink("b", "a").hardlink("c", "b").hardlink("d/e", "c"), base());
        assertThat(t.get("c").linkGroup()).isEqualTo("a");
        assertThat(t.get("d/e").linkGroup()).isEqualTo("a");
    }

    @Test
    void hardlinkToSymlinkLinksTheSymlinkItself() {
        var t = apply(tar().symlink("s", "target").hardlink("s2", "s"));
        assertThat(t.get("s2").type()).isEqualTo("symlink");
        assertThat(t.get("s2").target()).isEqualTo("target");
    }

    @Test
    void hardlinkToDirectoryFails() {
        expectInvalid(tar().dir("x").hardlink("y", "x"), "y", "hardlink to directory");
    }

    @Test
    void hardlinkToMissingTargetFails() {
        expectInvalid(tar().hardlink("y", "nothing"), "y", "does not exist");
    }

    @Test
    void hardlinkBeforeItsTargetFails() {
        expectInvalid(tar().hardlink("y", "x").file("x", "late"), "y", "does not exist");
    }

    @Test
    void hardlinkToLowerFileWhitedOutInThisLayerFails() {
        expectInvalid(tar().whiteout("etc/hostname").hardlink("h", "etc/hostname"), "h", "does not exist",
                base());
    }

    // ---------------------------------------------------------------- symlinks
    @Test
    void symlinkTargetsAreStoredVerbatim() {
        var t = apply(tar().symlink("abs", "/etc/shadow").symlink("rel", "../../x").symlink("dangling", "nope/x")
                .symlink("long", "a/".repeat(80) + "z"));
        assertThat(t.get("abs").target()).isEqualTo("/etc/shadow");
        assertThat(t.get("rel").target()).isEqualTo("../../x");
        assertThat(t.get("dangling").target()).isEqualTo("nope/x");
        assertThat(t.get("long").target()).isEqualTo("a/".repeat(80) + "z");
    }

    @Test
    void entriesAreWrittenThroughLowerSymlinks() {
        var t = apply(tar().file("lib/new.so", "n").file("abslib/abs.so", "a").dir("lib/sub").file("lib/sub/f", "f"),
                base());
        assertThat(t).containsKeys("usr/lib/new.so", "usr/lib/abs.so", "usr/lib/sub/f");
        assertThat(t.get("lib").type()).isEqualTo("symlink");
    }

    @Test
    void entriesAreWrittenThroughSymlinksOfThisLayer() {
        var t = apply(tar().dir("real").symlink("link", "/real").file("link/f", "f").symlink("chain", "link")
                .file("chain/g", "g"));
        assertThat(t).containsKeys("real/f", "real/g");
    }

    @Test
    void entryReplacingASymlinkReplacesTheLinkNotItsTarget() {
        var t = apply(tar().file("lib", "now a file"), base());
        assertThat(t.get("lib").type()).isEqualTo("file");
        assertThat(t).containsKey("usr/lib/libc.so");
    }

    @Test
    void symlinkLoopFails() {
        expectInvalid(tar().symlink("a", "b").symlink("b", "a").file("a/x", "x"), "a/x", "symbolic links");
    }

    @Test
    void fileAsParentFails() {
        expectInvalid(tar().file("f", "x").file("f/child", "y"), "f/child", "not a directory");
    }

    // ---------------------------------------------------------------- confinement
    @Test
    void dotDotAndAbsoluteNamesStayInsideTheRoot() {
        var t = apply(tar().file("../../canary/secret", "evil").file("/etc/passwd", "inside")
                .file("../etc/passwd", "inside2").dir("../../..").file("a/../../b", "b"));
        assertThat(t).containsKeys("canary/secret", "etc/passwd", "b");
        assertThat(t.get("etc/passwd").sha256()).isEqualTo(sha("inside2"));
    }

    @Test
    void absoluteSymlinkToOutsideIsFollowedInsideTheRoot() {
        ApplyHarness probe = harness();
        String outside = probe.canaryPath();
        var t = apply(tar().symlink("esc", outside).file("esc/secret", "evil").dir("esc/dir")
                .file("esc/dir/inner", "evil"));
        String inRoot = outside.substring(1);
        assertThat(t).containsKeys(inRoot + "/secret", inRoot + "/dir/inner");
        assertThat(t.get("esc").target()).isEqualTo(outside);
    }

    @Test
    void relativeSymlinkChainCannotClimbOutOfTheRoot() {
        var t = apply(tar().dir("a").symlink("a/up", "../../../../..").symlink("b", "a/up/a/up/canary")
                .file("b/secret", "evil").file("a/up/etc/passwd", "evil"));
        assertThat(t).containsKeys("canary/secret", "etc/passwd");
    }

    @Test
    void lowerSymlinkToOutsideIsFollowedInsideTheRoot() {
        ApplyHarness probe = harness();
        String outside = probe.canaryPath();
        var t = apply(tar().file("esc/secret", "evil").whiteout("esc/dir").opaque("esc"),
                tar().symlink("esc", outside));
        assertThat(t).containsKey(outside.substring(1) + "/secret");
    }

    @Test
    void hardlinkTargetsCannotLeaveTheRoot() {
        expectInvalid(tar().hardlink("pw", "../etc/passwd"), "pw", "does not exist");
        ApplyHarness probe = harness();
        expectInvalid(tar().symlink("esc", probe.canaryPath()).hardlink("s", "esc/secret"), "s", "does not exist");
    }

    @Test
    void hardlinkToAbsolutePathResolvesInsideTheRoot() {
        var t = apply(tar().hardlink("pw", "/etc/hostname"), base());
        assertThat(t.get("pw").linkGroup()).isEqualTo("etc/hostname");
    }

    @Test
    void whiteoutsCannotDeleteOutsideTheRoot() {
        ApplyHarness probe = harness();
        String outside = probe.canaryPath();
        var t = apply(tar().file("../canary/.wh.secret", "").file("../../.wh.etc", "")
                .symlink("esc", outside).whiteout("esc/secret").opaque("esc/dir").whiteout("esc/dir"), base());
        assertThat(t).containsKeys("esc", "d/old").doesNotContainKey("etc"); // "../../.wh.etc" is the root's etc
    }

    @Test
    void replacingASymlinkToOutsideDoesNotTouchItsTarget() {
        ApplyHarness probe = harness();
        String outside = probe.canaryPath();
        var t = apply(tar().file("esc", "file now").dir("esc2").file("esc3", "x"),
                tar().symlink("esc", outside).symlink("esc2", outside).symlink("esc3", outside + "/secret"));
        assertThat(t.get("esc").type()).isEqualTo("file");
        assertThat(t.get("esc2").type()).isEqualTo("dir");
    }

    @Test
    void entriesNamingTheRootAreSkipped() {
        var t = apply(tar().dir("./", a -> a.mode(0700)).dir("/").dir("..").file("x", "x"));
        assertThat(t.keySet()).containsExactlyInAnyOrder("", "x");
    }

    // ---------------------------------------------------------------- metadata
    @Test
    void numericIdsWinOverNames() {
        var t = apply(tar().file("f", "x", a -> a.owner(1234, 5678).names("root", "root"))
                .dir("big", a -> a.owner(3000000, 3000001)));
        assertThat(t.get("f").uid()).isEqualTo(1234);
        assertThat(t.get("f").gid()).isEqualTo(5678);
        assertThat(t.get("big").uid()).isEqualTo(3000000);
    }

    @Test
    void specialModeBitsSurviveTheOwnerChange() {
        var t = apply(tar().file("suid", "x", a -> a.mode(04755).owner(1000, 1000))
                .file("sgid", "x", a -> a.mode(02711).owner(1000, 1000))
                .dir("tmp", a -> a.mode(01777).owner(5, 5)));
        assertThat(t.get("suid").mode()).isEqualTo(04755);
        assertThat(t.get("sgid").mode()).isEqualTo(02711);
        assertThat(t.get("tmp").mode()).isEqualTo(01777);
    }

    @Test
    void timesAreExactToTheNanosecondIncludingSymlinksAndDirectories() {
        Instant t1 = Instant.parse("2001-02-03T04:05:06.987654321Z");
        Instant t2 = Instant.parse("1999-12-31T23:59:59.000000001Z");
        Instant t3 = Instant.parse("2010-01-01T00:00:00Z");
        var t = apply(tar().dir("dir", a -> a.mtime(t2)).file("dir/f", "x", a -> a.mtime(t1))
                .symlink("dir/s", "f", a -> a.mtime(t1)).file("dir/g", "y", a -> a.mtime(t3)));
        assertThat(t.get("dir/f").mtimeSec()).isEqualTo(t1.getEpochSecond());
        assertThat(t.get("dir/f").mtimeNsec()).isEqualTo(987654321);
        assertThat(t.get("dir/s").mtimeNsec()).isEqualTo(987654321);
        assertThat(t.get("dir/g").mtimeSec()).isEqualTo(t3.getEpochSecond());
        assertThat(t.get("dir").mtimeSec()).isEqualTo(t2.getEpochSecond());
        assertThat(t.get("dir").mtimeNsec()).isEqualTo(1);
    }

    @Test
    void binaryXattrsAreByteExact() {
        var t = apply(tar().file("bin/ping", "elf", a -> a.mode(0755).xattr("security.capability", CAPABILITY)
                .xattr("user.binary", new byte[] {0, (byte) 0xc3, 0x28, (byte) 0xff, '\n', '='}))
                .dir("d2", a -> a.xattr("user.dir", "v")));
        assertThat(t.get("bin/ping").xattrs())
                .containsEntry("security.capability", HexFormat.of().formatHex(CAPABILITY))
                .containsEntry("user.binary", "00c328ff0a3d");
        assertThat(t.get("d2").xattrs()).containsEntry("user.dir", hex("v"));
    }

    @Test
    void xattrRefusedOnSymlinkIsIgnored() {
        var t = apply(tar().symlink("s", "x", a -> a.xattr("user.nope", "v")).file("f", "f"));
        assertThat(t.get("s").type()).isEqualTo("symlink");
        assertThat(t).containsKey("f");
    }

    @Test
    void overlayXattrsFromTheLayerNeverTakeEffect() {
        var t = apply(tar().dir("d", a -> a.xattr("trusted.overlay.opaque", "y").xattr("user.overlay.opaque", "y"))
                .file("d/added", "a", a -> a.xattr("trusted.overlay.whiteout", "y")), base());
        assertThat(t).containsKeys("d/old", "d/sub/deep", "d/added");
        assertThat(t.get("d").xattrs()).doesNotContainKeys("trusted.overlay.opaque", "user.overlay.opaque");
    }

    @Test
    void devicesAndFifosAreCreated() {
        var t = apply(tar().device("dev/null", '3', 1, 3, a -> a.mode(0666))
                .device("dev/loop0", '4', 7, 0, a -> a.mode(0660).owner(0, 6))
                .device("dev/big", '3', 300, 70000, null)
                .device("run/fifo", '6', 0, 0, a -> a.mode(0620)));
        assertThat(t.get("dev/null").type()).isEqualTo("char");
        assertThat(t.get("dev/null").rdev()).isEqualTo(0x103);
        assertThat(t.get("dev/null").mode()).isEqualTo(0666);
        assertThat(t.get("dev/loop0").type()).isEqualTo("block");
        assertThat(t.get("dev/loop0").gid()).isEqualTo(6);
        assertThat(t.get("run/fifo").type()).isEqualTo("fifo");
        assertThat(t.get("run/fifo").mode()).isEqualTo(0620);
    }

    @Test
    void longNamesAndLinksInGnuAndPaxForm() {
        String longDir = "l".repeat(90) + "/" + "m".repeat(90);
        String longName = longDir + "/" + "n".repeat(120);
        var gnu = apply(tar().gnuLongNames().dir("l".repeat(90)).dir(longDir).file(longName, "gnu")
                .symlink("s", longName).hardlink("h", longName));
        var pax = apply(tar().dir("l".repeat(90)).dir(longDir).file(longName, "gnu")
                .symlink("s", longName).hardlink("h", longName));
        assertThat(gnu.get(longName).sha256()).isEqualTo(sha("gnu"));
        assertThat(gnu.get("s").target()).isEqualTo(longName);
        assertThat(gnu.get("h").linkGroup()).isNotNull().isEqualTo(gnu.get(longName).linkGroup());
        assertThat(TreeSnapshot.withoutDirectoryMtimes(pax)).isEqualTo(TreeSnapshot.withoutDirectoryMtimes(gnu));
    }

    @Test
    void paxSparseFilesKeepTheirDataAndHoles() {
        var t = apply(SparseTars.sparse10("sparse", 5 << 20, Map.of(0L, "head", 3L << 20, "middle"))
                .file("after", "after"));
        byte[] expected = new byte[5 << 20];
        System.arraycopy("head".getBytes(), 0, expected, 0, 4);
        System.arraycopy("middle".getBytes(), 0, expected, 3 << 20, 6);
        assertThat(t.get("sparse").sha256()).isEqualTo(TreeSnapshot.sha256(expected));
        assertThat(t.get("after").sha256()).isEqualTo(sha("after"));
    }

    // ---------------------------------------------------------------- duplicates
    @Test
    void laterFileReplacesEarlierFile() {
        var t = apply(tar().file("f", "one").file("f", "two", a -> a.mode(0600)));
        assertThat(t.get("f").sha256()).isEqualTo(sha("two"));
        assertThat(t.get("f").mode()).isEqualTo(0600);
    }

    @Test
    void directoryAfterDirectoryMergesWithLaterMetadata() {
        var t = apply(tar().dir("d", a -> a.mode(0700)).file("d/a", "a").dir("d", a -> a.mode(0711).owner(3, 4)));
        assertThat(t.get("d").mode()).isEqualTo(0711);
        assertThat(t.get("d").uid()).isEqualTo(3);
        assertThat(t).containsKey("d/a");
    }

    @Test
    void fileReplacesDirectoryAndDirectoryReplacesFile() {
        var t = apply(tar().dir("x").file("x/inner", "i").file("x", "now file").file("y", "file")
                .dir("y").file("y/inner", "i"), base());
        assertThat(t.get("x").type()).isEqualTo("file");
        assertThat(t).doesNotContainKey("x/inner");
        assertThat(t.get("y").type()).isEqualTo("dir");
    }

    @Test
    void layerEntriesReplaceLowerEntriesOfAnotherType() {
        var t = apply(tar().file("d", "file over dir").dir("etc/hostname").symlink("usr", "/elsewhere"), base());
        assertThat(t.get("d").type()).isEqualTo("file");
        assertThat(t.keySet()).noneMatch(k -> k.startsWith("d/") || k.startsWith("usr/"));
        assertThat(t.get("etc/hostname").type()).isEqualTo("dir");
        assertThat(t.get("usr").target()).isEqualTo("/elsewhere");
    }

    @Test
    void fileThenDirectoryOverLowerDirectoryHidesLowerChildren() {
        var t = apply(tar().file("d", "f").dir("d").file("d/new", "n"), base());
        assertThat(t).containsKeys("d", "d/new").doesNotContainKeys("d/old", "d/sub");
    }

    @Test
    void directoryOverLowerDirectoryMergesAndKeepsLowerXattrs() {
        var t = apply(tar().dir("d", a -> a.mode(0755).owner(1, 2).xattr("user.new", "n")).file("d/new", "n"),
                base());
        assertThat(t).containsKeys("d/old", "d/sub/deep", "d/new");
        assertThat(t.get("d").mode()).isEqualTo(0755);
        assertThat(t.get("d").xattrs()).containsEntry("user.lower", hex("yes")).containsEntry("user.new", hex("n"));
    }

    @Test
    void missingParentsAreCreatedAndLowerParentsKeepTheirMetadata() {
        var t = apply(tar().file("new/deep/f", "f").file("d/sub/added", "a"), base());
        assertThat(t.get("new").type()).isEqualTo("dir");
        assertThat(t.get("new").mode()).isEqualTo(0755);
        assertThat(t.get("d").mode()).isEqualTo(0750);
        assertThat(t.get("d").uid()).isEqualTo(10);
        assertThat(t.get("d").xattrs()).containsEntry("user.lower", hex("yes"));
    }

    static String hex(String s) {
        return HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8));
    }
}
