package dev.berth.snapshot.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.snapshot.Usage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
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
}
