package dev.berth.junit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.ExecOptions;
import dev.berth.api.task.RunResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files copied in before start and both ways later, byte-exact; exec with bytes and users by name; logs. */
@BerthTest
class FilesExecLogsIT {
    private static final byte[] BINARY = new byte[262_144];
    private static final List<String> consumed = new CopyOnWriteArrayList<>();

    static {
        new Random(7).nextBytes(BINARY);
    }

    @TempDir
    static Path tmp;

    @Container
    static BerthContainer<?> box = new BerthContainer<>(TestImages.busybox())
            .withCommand("sh", "-c", "echo started as $(id -un) in $(pwd) with $GREETING; exec sleep 600")
            .withEnv("GREETING", "ahoy")
            .withWorkingDirectory("/home/app")
            .withUser("app")
            .withTmpFs("/scratch", "size=16m")
            .withMemoryLimit(64L << 20)
            .withCpuLimit(0.5)
            .withLabel("suite", "files")
            .withCopyToContainer(Transferable.of(BINARY, 0600), "/data/blob.bin")
            .withCopyToContainer(Transferable.ofClasspathResource("greeting.txt"), "/etc/greeting.txt")
            .withCopyToContainer(Transferable.of("#!/bin/sh\necho script ran\n".getBytes(StandardCharsets.UTF_8), 0755),
                    "/usr/local/bin/hello")
            .withLogConsumer(consumed::add)
            .waitingFor(Wait.forLogMessage("^started as", 1));

    @Test
    void theProcessRunsWithTheConfiguredUserDirectoryEnvironmentAndLimits() throws Exception {
        assertThat(box.logLines()).containsExactly("started as app in /home/app with ahoy");
        assertThat(consumed).containsExactly("started as app in /home/app with ahoy");
        assertThat(box.logs()).isEqualTo("started as app in /home/app with ahoy\n");
        assertThat(box.container().labels()).containsEntry("suite", "files");
        var resources = box.container().spec().linux().resources();
        assertThat(resources.memory().limit()).isEqualTo(64L << 20);
        assertThat(resources.cpu().quota()).isEqualTo(50_000L);
        assertThat(resources.cpu().period()).isEqualTo(100_000L);
        assertThat(box.exec("sh", "-c", "grep ' /scratch ' /proc/mounts").stdout()).contains("tmpfs");
    }

    @Test
    void filesCopiedBeforeStartArriveByteExactWithTheirModes() throws Exception {
        RunResult cat = box.exec(ExecOptions.builder("cat", "/data/blob.bin").user("root").build());
        assertThat(cat.exitCode()).isZero();
        assertThat(cat.stdoutBytes()).hasSize(262_144).isEqualTo(BINARY);
        assertThat(box.exec("stat", "-c", "%a", "/data/blob.bin", "/etc/greeting.txt", "/usr/local/bin/hello").stdout())
                .isEqualTo("600\n644\n755\n");
        assertThat(box.exec("cat", "/etc/greeting.txt").stdout()).isEqualTo("from the class path\n");
        assertThat(box.exec("hello").stdout()).isEqualTo("script ran\n");
    }

    @Test
    void aBinaryFileCopiesIntoTheRunningContainerAndBackByteExact() throws Exception {
        byte[] other = new byte[100_003];
        new Random(11).nextBytes(other);
        Path host = tmp.resolve("in.bin");
        Files.write(host, other);
        Files.setPosixFilePermissions(host, PosixFilePermissions.fromString("rwxr-----"));
        box.copyFileToContainer(Transferable.ofHostPath(host), "/scratch/in.bin");
        assertThat(box.exec("stat", "-c", "%a %s", "/scratch/in.bin").stdout()).isEqualTo("740 100003\n");

        box.exec(ExecOptions.builder("sh", "-c", "cat /scratch/in.bin /scratch/in.bin > /tmp/twice.bin").user("root")
                .build());
        byte[] back = box.copyFileFromContainer("/tmp/twice.bin");
        assertThat(back).hasSize(200_006);
        assertThat(java.util.Arrays.copyOfRange(back, 0, 100_003)).isEqualTo(other);
        assertThat(java.util.Arrays.copyOfRange(back, 100_003, 200_006)).isEqualTo(other);

        Path out = tmp.resolve("out.bin");
        box.copyFileFromContainer("/data/blob.bin", out);
        assertThat(Files.readAllBytes(out)).isEqualTo(BINARY);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out))).isEqualTo("rw-------");
    }

    @Test
    void execRunsAsAUserGivenByNameAndReturnsStdoutAndStderrApart() throws Exception {
        RunResult asRoot = box.exec(ExecOptions.builder("sh", "-c", "id -u; echo oops >&2; exit 5").user("root").build());
        assertThat(asRoot).isEqualTo(new RunResult("0\n", "oops\n", 5));
        assertThat(box.exec("id", "-un").stdout()).isEqualTo("app\n"); // the container's own user by default
        assertThat(box.exec(ExecOptions.builder("id", "-u").user("nobody").build()).stdout()).isEqualTo("65534\n");
        assertThat(box.exec(ExecOptions.builder("cat").stdin(BINARY).build()).stdoutBytes()).isEqualTo(BINARY);
    }
}
