package dev.berth.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.Digest;
import dev.berth.sys.Syscalls;
import dev.berth.testing.FileTree.Attribute;
import dev.berth.testing.FileTree.Difference;
import dev.berth.testing.FileTree.Type;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreeTest {
    @TempDir
    Path tmp;
    Path left;
    Path right;

    /** The same small tree in two places. */
    @BeforeEach
    void twoEqualTrees() throws IOException {
        left = tmp.resolve("left");
        right = tmp.resolve("right");
        for (Path root : new Path[] {left, right}) {
            Files.createDirectories(root.resolve("d"));
            Files.writeString(root.resolve("d/f"), "content");
            Files.createSymbolicLink(root.resolve("d/s"), Path.of("f"));
            Files.createLink(root.resolve("d/h"), root.resolve("d/f"));
            Syscalls.get().setXattr(root.resolve("d/f"), "user.a", "1".getBytes(StandardCharsets.UTF_8));
            for (Path p : new Path[] {root.resolve("d/f"), root.resolve("d/s"), root.resolve("d"), root}) {
                Syscalls.get().setTimes(p, Instant.EPOCH, Instant.parse("2020-01-01T00:00:00.5Z"));
            }
        }
    }

    private FileTree scan(Path root) {
        return FileTree.scan(root);
    }

    @Test
    void equalTreesHaveNoDifferences() {
        assertThat(scan(left).diff(scan(right))).isEmpty();
        assertThat(scan(left).diffReport(scan(right))).isEmpty();
    }

    @Nested
    class Records {
        @Test
        void entriesCarryTypeModeOwnerSizeContentAndTarget() {
            FileTree tree = scan(left);

            assertThat(tree.entries().keySet()).containsExactly("/", "/d", "/d/f", "/d/h", "/d/s");
            FileTree.Entry f = tree.get("/d/f").orElseThrow();
            assertThat(f.type()).isEqualTo(Type.REGULAR);
            assertThat(f.size()).isEqualTo(7);
            assertThat(f.content()).isEqualTo(Digest.sha256("content".getBytes(StandardCharsets.UTF_8)));
            assertThat(f.mtime()).isEqualTo(Instant.parse("2020-01-01T00:00:00.5Z"));
            assertThat(f.xattrs()).containsEntry("user.a", "1");
            assertThat(tree.get("/d/s").orElseThrow().linkTarget()).isEqualTo("f");
            assertThat(tree.get("/d/s").orElseThrow().type()).isEqualTo(Type.SYMLINK);
            assertThat(tree.get("/d").orElseThrow().type()).isEqualTo(Type.DIRECTORY);
        }

        @Test
        void hardlinksShareTheGroupOfTheirFirstPath() {
            FileTree tree = scan(left);
            assertThat(tree.get("/d/f").orElseThrow().hardlinkGroup()).isEqualTo("/d/f");
            assertThat(tree.get("/d/h").orElseThrow().hardlinkGroup()).isEqualTo("/d/f");
            assertThat(tree.get("/d/s").orElseThrow().hardlinkGroup()).isNull();
        }

        @Test
        void specialModeBitsDevicesAndFifosAreRecorded() throws IOException {
            Files.setAttribute(left.resolve("d/f"), "unix:mode", 06755);
            Files.setAttribute(left.resolve("d"), "unix:mode", 01777);
            Syscalls.get().mknod(left.resolve("null"), 0020666, 1, 3);
            Files.setAttribute(left.resolve("null"), "unix:mode", 0666);
            Syscalls.get().mknod(left.resolve("loop"), 0060660, 7, 300);
            Syscalls.get().mknod(left.resolve("fifo"), 0010644, 0, 0);

            FileTree tree = scan(left);
            assertThat(tree.get("/d/f").orElseThrow().mode()).isEqualTo(06755);
            assertThat(tree.get("/d").orElseThrow().mode()).isEqualTo(01777);
            FileTree.Entry nul = tree.get("/null").orElseThrow();
            assertThat(nul.type()).isEqualTo(Type.CHAR_DEVICE);
            assertThat(nul.devMajor()).isEqualTo(1);
            assertThat(nul.devMinor()).isEqualTo(3);
            FileTree.Entry loop = tree.get("/loop").orElseThrow();
            assertThat(loop.type()).isEqualTo(Type.BLOCK_DEVICE);
            assertThat(loop.devMinor()).isEqualTo(300);
            assertThat(tree.get("/fifo").orElseThrow().type()).isEqualTo(Type.FIFO);
            assertThat(tree.toString()).contains("-rwsr-sr-x 0:0 7 ", "drwxrwxrwt", "crw-rw-rw- 0:0 1,3 ");
        }

        @Test
        void binaryAndTrustedXattrsAreKeptByteExact() throws IOException {
            // vfs_cap_data revision 2, effective, permitted = CAP_NET_RAW (bit 13)
            byte[] capability = {1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
            Syscalls.get().setXattr(left.resolve("d/f"), "security.capability", capability);
            Syscalls.get().setXattr(left.resolve("d/f"), "user.b", new byte[] {(byte) 0xff, '\\', 'x'});
            Syscalls.get().setXattr(left.resolve("d"), "trusted.overlay.opaque", "y".getBytes(StandardCharsets.UTF_8));

            FileTree tree = scan(left);
            assertThat(tree.get("/d/f").orElseThrow().xattrs())
                    .containsEntry("security.capability", "\\x01\\x00\\x00\\x02\\x00 " + "\\x00".repeat(14))
                    .containsEntry("user.b", "\\xff\\\\x");
            assertThat(tree.get("/d").orElseThrow().xattrs()).containsEntry("trusted.overlay.opaque", "y");
        }
    }

    @Nested
    class Differences {
        @Test
        void changedModeIsReported() throws IOException {
            Files.setAttribute(right.resolve("d/f"), "unix:mode", 04644);

            // /d/h is the same inode, so it changes along.
            assertThat(scan(left).diff(scan(right))).containsExactly(
                    new Difference("/d/f", "mode", "0644", "04644"),
                    new Difference("/d/h", "mode", "0644", "04644"));
        }

        @Test
        void changedXattrIsReported() throws IOException {
            Syscalls.get().setXattr(right.resolve("d/f"), "user.a", "2".getBytes(StandardCharsets.UTF_8));
            Syscalls.get().setXattr(right.resolve("d"), "trusted.overlay.opaque", "y".getBytes(StandardCharsets.UTF_8));

            assertThat(scan(left).diff(scan(right))).containsExactly(
                    new Difference("/d", "xattr trusted.overlay.opaque", "(missing)", "\"y\""),
                    new Difference("/d/f", "xattr user.a", "\"1\"", "\"2\""),
                    new Difference("/d/h", "xattr user.a", "\"1\"", "\"2\""));
        }

        @Test
        void changedContentOfSameSizeIsReported() throws IOException {
            Files.writeString(right.resolve("d/f"), "CONTENT");
            Syscalls.get().setTimes(right.resolve("d/f"), Instant.EPOCH, Instant.parse("2020-01-01T00:00:00.5Z"));

            assertThat(scan(left).diff(scan(right))).extracting(Difference::path, Difference::attribute)
                    .containsExactlyInAnyOrder(
                            org.assertj.core.groups.Tuple.tuple("/d/f", "content"),
                            org.assertj.core.groups.Tuple.tuple("/d/h", "content"));
        }

        @Test
        void ownerMtimeTargetAndMissingEntriesAreReported() throws IOException {
            Files.setAttribute(right.resolve("d/f"), "unix:uid", 1000, LinkOption.NOFOLLOW_LINKS);
            Files.delete(right.resolve("d/s"));
            Files.createSymbolicLink(right.resolve("d/s"), Path.of("/etc/passwd"));
            Files.writeString(right.resolve("extra"), "");

            String report = scan(left).diffReport(scan(right), Attribute.DIRECTORY_MTIME);
            assertThat(report).contains("/d/f: owner 0:0 != 1000:0", "/d/s: link target f != /etc/passwd",
                    "/d/s: mtime 2020-01-01T00:00:00.500Z != ", "/extra: entry (missing) != REGULAR");
            assertThat(report).doesNotContain("/d: mtime");
        }

        @Test
        void typeChangeIsReportedAlone() throws IOException {
            Files.delete(right.resolve("d/s"));
            Files.createDirectory(right.resolve("d/s"));

            assertThat(scan(left).diff(scan(right), Attribute.DIRECTORY_MTIME))
                    .containsExactly(new Difference("/d/s", "type", "SYMLINK", "DIRECTORY"));
        }

        @Test
        void brokenHardlinkIsReported() throws IOException {
            Files.delete(right.resolve("d/h"));
            Files.writeString(right.resolve("d/h"), "content");

            assertThat(scan(left).diff(scan(right), Attribute.MTIME, Attribute.DIRECTORY_MTIME, Attribute.XATTRS))
                    .containsExactly(
                    new Difference("/d/f", "hardlink group", "/d/f", "null"),
                    new Difference("/d/h", "hardlink group", "/d/f", "null"));
        }

        @Test
        void ignoredAttributesAndExcludedPathsAreNotReported() throws IOException {
            Files.setAttribute(right.resolve("d/f"), "unix:mode", 0600);
            Syscalls.get().setXattr(right.resolve("d/f"), "user.b", new byte[0]);
            Files.writeString(right.resolve("extra"), "");

            assertThat(scan(left).diff(scan(right).excluding(p -> p.equals("/extra")),
                    Attribute.MODE, Attribute.XATTRS, Attribute.DIRECTORY_MTIME)).isEmpty();
        }
    }
}
