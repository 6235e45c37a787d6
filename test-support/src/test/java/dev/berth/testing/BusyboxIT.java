package dev.berth.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.MediaTypes.Compression;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the busybox rootfs and reads our tars with GNU tar, an independent implementation. */
class BusyboxIT {
    @TempDir
    Path tmp;

    record Result(int exit, String output) {
    }

    static Result run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish: " + out);
        }
        return new Result(p.exitValue(), out);
    }

    static void untar(Path tar, Path dir, String... extra) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>(List.of("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner",
                "--same-owner", "-p", "-xf", tar.toString(), "-C", dir.toString()));
        cmd.addAll(List.of(extra));
        Result r = run(cmd.toArray(String[]::new));
        assertThat(r.exit()).as(r.output()).isZero();
    }

    @Test
    void populatedRootfsRunsShellUnderChroot() throws Exception {
        Path rootfs = tmp.resolve("rootfs");
        Busybox.populate(rootfs);

        Result r = run("chroot", rootfs.toString(), "/bin/sh", "-c", "echo hi; id -u app; ls -d /tmp");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).isEqualTo("hi\n1000\n/tmp\n");
    }

    @Test
    void gnuTarUnpacksTheImageLayerIntoTheSameTreeAsPopulate() throws Exception {
        Path populated = tmp.resolve("populated");
        Busybox.populate(populated);
        for (Compression c : List.of(Compression.GZIP, Compression.ZSTD)) {
            Path blob = tmp.resolve("layer." + c);
            Files.write(blob, Busybox.layer(c).blob());
            Path unpacked = tmp.resolve("unpacked-" + c);
            untar(blob, unpacked, c == Compression.ZSTD ? "--zstd" : "-z");

            assertThat(FileTree.scan(populated).withoutRoot().diffReport(FileTree.scan(unpacked).withoutRoot()))
                    .as(c.toString()).isEmpty();
        }
        Result r = run("chroot", tmp.resolve("unpacked-GZIP").toString(), "/bin/busybox", "true");
        assertThat(r.exit()).as(r.output()).isZero();
    }

    @Test
    void gnuTarReadsXattrsLongNamesNanosecondMtimesAndLinks() throws Exception {
        byte[] capability = {1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        byte[] binary = {(byte) 0xff, 0, (byte) 0xc3, 0x28};
        String longName = "deep/" + "x".repeat(180);
        Instant nanos = Instant.parse("2023-03-04T05:06:07.123456789Z");
        TestLayer layer = LayerBuilder.create().parents()
                .entry(TarEntry.file("bin/ping", "elf").withMode(0755).withXattr("security.capability", capability))
                .entry(TarEntry.file("data", "d").withXattr("user.bin", binary).withXattr("trusted.t", "v")
                        .withMtime(nanos).withOwner(1000, 2000))
                .hardlink("data-link", "data")
                .file(longName, "long")
                .entry(TarEntry.dir("opaque").withXattr("trusted.overlay.opaque", "y"))
                .fifo("pipe")
                .charDevice("null", 1, 3)
                .build(Compression.NONE);
        Path tar = tmp.resolve("layer.tar");
        Files.write(tar, layer.blob());
        Path out = tmp.resolve("out");
        untar(tar, out);

        FileTree tree = FileTree.scan(out);
        assertThat(tree.get("/bin/ping").orElseThrow().xattrs())
                .containsEntry("security.capability", FileTree.escape(capability));
        FileTree.Entry data = tree.get("/data").orElseThrow();
        assertThat(data.xattrs()).containsEntry("user.bin", "\\xff\\x00\\xc3(").containsEntry("trusted.t", "v");
        assertThat(data.mtime()).isEqualTo(nanos);
        assertThat(data.uid()).isEqualTo(1000);
        assertThat(data.gid()).isEqualTo(2000);
        assertThat(tree.get("/data-link").orElseThrow().hardlinkGroup()).isEqualTo("/data");
        assertThat(tree.get("/" + longName).orElseThrow().content()).isNotNull();
        assertThat(tree.get("/opaque").orElseThrow().xattrs()).containsEntry("trusted.overlay.opaque", "y");
        assertThat(tree.get("/pipe").orElseThrow().type()).isEqualTo(FileTree.Type.FIFO);
        assertThat(tree.get("/null").orElseThrow().devMinor()).isEqualTo(3);
    }
}
