package dev.berth.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.snapshot.Usage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreesTest {
    @TempDir
    Path dir;

    @Test
    void diskUsageCountsEveryInodeOnceIncludingTheRoot() throws Exception {
        Path layer = Files.createDirectory(dir.resolve("layer"));
        byte[] data = new byte[10_000];
        new Random(1).nextBytes(data);
        Files.write(layer.resolve("a"), data);
        Files.createLink(layer.resolve("a-link"), layer.resolve("a"));
        Files.createDirectory(layer.resolve("d"));
        Files.createSymbolicLink(layer.resolve("d/s"), Path.of("../a"));

        Usage u = FileTrees.diskUsage(layer);

        // root, a (two names), d, d/s
        assertThat(u.inodes()).isEqualTo(4);
        // allocated space: the 10 000-byte file takes at least 3 blocks of 4 KiB, counted once
        assertThat(u.size()).isGreaterThanOrEqualTo(12_288).isLessThan(2 * 12_288 + 3 * 4096);
    }

    @Test
    void diskUsageOfSparseFilesIsWhatTheyOccupy() throws Exception {
        Path layer = Files.createDirectory(dir.resolve("layer"));
        try (var ch = java.nio.channels.FileChannel.open(layer.resolve("sparse"),
                java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {1}), 100L * 1024 * 1024);
        }

        assertThat(FileTrees.diskUsage(layer).size()).isLessThan(1024 * 1024);
    }

    @Test
    void deleteTreeRemovesSymlinksNotTheirTargets() throws Exception {
        Path canary = Files.writeString(dir.resolve("canary"), "keep");
        Path outside = Files.createDirectory(dir.resolve("outside"));
        Files.writeString(outside.resolve("f"), "keep");
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Files.createSymbolicLink(tree.resolve("to-file"), canary);
        Files.createSymbolicLink(tree.resolve("to-dir"), outside);
        Files.createDirectories(tree.resolve("a/b/c"));
        Files.writeString(tree.resolve("a/b/c/f"), "x");

        FileTrees.deleteTree(tree);

        assertThat(tree).doesNotExist();
        assertThat(canary).hasContent("keep");
        assertThat(outside.resolve("f")).hasContent("keep");
    }

    @Test
    void deleteTreeOfAMissingDirectoryDoesNothing() throws Exception {
        FileTrees.deleteTree(dir.resolve("missing"));

        assertThat(dir.resolve("missing")).doesNotExist();
    }

    @Test
    void deleteTreeRemovesATreeDeeperThanPathMax() throws Exception {
        Path tree = Files.createDirectory(dir.resolve("deep"));
        Path leafParent = deepTree(tree);
        assertThat(leafParent.toString().length()).isGreaterThan(4096);

        Usage u = FileTrees.diskUsage(tree);
        assertThat(u.inodes()).isEqualTo(DEPTH + 2); // tree, DEPTH directories, the file
        assertThat(u.size()).isGreaterThan(0);

        FileTrees.deleteTree(tree);

        assertThat(tree).doesNotExist();
    }

    @Test
    void deleteTreeRefusesAMountPointInsideAndDeletesNothing() throws Exception {
        Path tree = Files.createDirectories(dir.resolve("tree/a"));
        Path keep = Files.writeString(tree.resolve("keep"), "keep");
        Path mnt = Files.createDirectory(tree.resolve("mnt"));
        mountTmpfs(mnt);
        try {
            Path mounted = Files.writeString(mnt.resolve("data"), "mounted");

            assertThatThrownBy(() -> FileTrees.deleteTree(dir.resolve("tree")))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("refusing to delete")
                    .hasMessageContaining(mnt.toString());

            assertThat(mounted).hasContent("mounted");
            assertThat(keep).hasContent("keep");
        } finally {
            Syscalls.get().umount2(mnt.toString(), Syscalls.MNT_DETACH);
        }
        FileTrees.deleteTree(dir.resolve("tree"));
        assertThat(dir.resolve("tree")).doesNotExist();
    }

    @Test
    void deleteTreeRefusesABindMountOfTheSameFileSystem() throws Exception {
        Path other = Files.createDirectory(dir.resolve("other"));
        Path precious = Files.writeString(other.resolve("precious"), "keep");
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Path bind = Files.createDirectory(tree.resolve("bind"));
        requireRoot();
        Syscalls.get().mount(other.toString(), bind.toString(), "", 0x1000 /* MS_BIND */, null);
        try {
            assertThatThrownBy(() -> FileTrees.deleteTree(tree)).hasMessageContaining(bind.toString());
            assertThat(precious).hasContent("keep");
        } finally {
            Syscalls.get().umount2(bind.toString(), Syscalls.MNT_DETACH);
        }
    }

    @Test
    void deleteTreeOfASymlinkRemovesTheLinkOnly() throws Exception {
        Path target = Files.createDirectory(dir.resolve("target"));
        Files.writeString(target.resolve("f"), "keep");
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);

        FileTrees.deleteTree(link);

        assertThat(link).doesNotExist();
        assertThat(target.resolve("f")).hasContent("keep");
    }

    private static final int DEPTH = 25;

    /** DEPTH nested directories of 200-character names, a file in the deepest; returns its directory. */
    private static Path deepTree(Path root) throws IOException {
        String name = "d".repeat(200);
        int fd = Syscalls.get().openat(Syscalls.AT_FDCWD, root.toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY, 0);
        Path logical = root;
        try {
            for (int i = 0; i < DEPTH; i++) {
                Syscalls.get().mkdirat(fd, name, 0755);
                int next = Syscalls.get().openat(fd, name, Syscalls.O_RDONLY | Syscalls.O_DIRECTORY, 0);
                Syscalls.get().close(fd);
                fd = next;
                logical = logical.resolve(name);
            }
            int f = Syscalls.get().openat(fd, "file", Syscalls.O_WRONLY | Syscalls.O_CREAT, 0644);
            Syscalls.get().close(f);
        } finally {
            Syscalls.get().close(fd);
        }
        return logical;
    }

    private static void requireRoot() {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "mounting needs root");
    }

    private static void mountTmpfs(Path at) throws IOException {
        requireRoot();
        Syscalls.get().mount("tmpfs", at.toString(), "tmpfs", 0, "size=1m");
    }
}
