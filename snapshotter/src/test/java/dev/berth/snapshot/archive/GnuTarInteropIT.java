package dev.berth.snapshot.archive;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.berth.sys.Syscalls;
import dev.berth.testing.TestFiles;

/**
 * Layers written by GNU tar (PAX format, sparse 1.0, xattrs, hardlinks, devices) apply to exactly what
 * GNU tar itself extracts, in both modes.
 */
class GnuTarInteropIT {
    private Path base;

    @BeforeEach
    void setUp() throws IOException {
        base = Files.createTempDirectory("berth-gnutar-");
    }

    @AfterEach
    void tearDown() throws IOException {
        TestFiles.deleteTree(base);
    }

    @Test
    void gnuTarLayerAppliesLikeGnuTarExtracts() throws IOException {
        Path src = Files.createDirectories(base.resolve("src"));
        buildTree(src);
        Path tar = base.resolve("layer.tar");
        ApplyHarness.run("tar", "--xattrs", "--xattrs-include=*", "--sparse", "--sparse-version=1.0", "--format=pax",
                "--numeric-owner", "-C", src.toString(), "-cf", tar.toString(), ".");
        Path byTar = Files.createDirectories(base.resolve("bytar"));
        ApplyHarness.run("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", tar.toString(),
                "-C", byTar.toString());

        Path naive = Files.createDirectories(base.resolve("naive"));
        try (InputStream in = Files.newInputStream(tar)) {
            LayerApplier.create().apply(in, ApplyTarget.naive(naive));
        }
        TreeMap<String, TreeSnapshot.Node> expected = TreeSnapshot.of(byTar);
        expected.remove(""); // tar applies "./" to the destination itself; a layer never changes the root
        TreeMap<String, TreeSnapshot.Node> actual = TreeSnapshot.of(naive);
        actual.remove("");
        assertThat(actual).isEqualTo(expected);
        assertThat(actual.get("sparse").sha256()).isEqualTo(TreeSnapshot.sha256(src.resolve("sparse")));
        assertThat(Files.size(naive.resolve("sparse"))).isEqualTo(64L << 20);
        assertThat((Long) Files.getAttribute(naive.resolve("sparse"), "unix:size")).isEqualTo(64L << 20);

        Path upper = Files.createDirectories(base.resolve("upper"));
        try (InputStream in = Files.newInputStream(tar)) {
            LayerApplier.create().apply(in, ApplyTarget.overlay(upper, java.util.List.of()));
        }
        TreeMap<String, TreeSnapshot.Node> overlay = TreeSnapshot.of(upper);
        overlay.remove("");
        assertThat(overlay).isEqualTo(expected);
    }

    private static void buildTree(Path src) throws IOException {
        Syscalls sys = Syscalls.get();
        Files.createDirectories(src.resolve("usr/bin"));
        Files.writeString(src.resolve("usr/bin/tool"), "#!/bin/sh\necho tool\n");
        ApplyHarness.run("chmod", "4755", src.resolve("usr/bin/tool").toString());
        Files.writeString(src.resolve("usr/bin/ping"), "elf");
        assertThat(sys.lsetxattr(src.resolve("usr/bin/ping").toString(), "security.capability",
                ConformanceSuite.CAPABILITY)).isZero();
        assertThat(sys.lsetxattr(src.resolve("usr/bin/tool").toString(), "user.comment",
                "hello".getBytes(StandardCharsets.UTF_8))).isZero();
        Files.createLink(src.resolve("usr/bin/tool2"), src.resolve("usr/bin/tool"));
        Files.createSymbolicLink(src.resolve("bin"), Path.of("usr/bin"));
        Files.createSymbolicLink(src.resolve("abs"), Path.of("/usr/bin/tool"));
        String longDir = "deep/" + "x".repeat(120) + "/" + "y".repeat(120);
        Files.createDirectories(src.resolve(longDir));
        Files.writeString(src.resolve(longDir + "/" + "z".repeat(200)), "long");
        ApplyHarness.run("mknod", src.resolve("null").toString(), "c", "1", "3");
        ApplyHarness.run("mkfifo", src.resolve("fifo").toString());
        ApplyHarness.run("chown", "1234:5678", src.resolve("usr/bin/ping").toString());
        ApplyHarness.run("chown", "-h", "42:43", src.resolve("bin").toString());
        try (var ch = java.nio.channels.FileChannel.open(src.resolve("sparse"),
                java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap("middle".getBytes(StandardCharsets.US_ASCII)), 20L << 20);
            ch.write(java.nio.ByteBuffer.wrap("end".getBytes(StandardCharsets.US_ASCII)), (64L << 20) - 3);
        }
        Files.createDirectories(src.resolve("tmp"));
        ApplyHarness.run("chmod", "1777", src.resolve("tmp").toString());
        FileTime t = FileTime.from(Instant.parse("2021-05-06T07:08:09.123456789Z"));
        try (var s = Files.walk(src)) {
            for (Path p : s.toList()) {
                if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(p,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS)) { // opening a fifo to set its times would block
                    Files.setLastModifiedTime(p, t);
                }
            }
        }
    }
}
