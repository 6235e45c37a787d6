package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.image.Image;
import dev.berth.api.task.RunResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Two JVMs on one root: what one imports, the other (already open) lists and runs. */
class TwoProcessesIT {

    @Test
    void imageImportedByAnotherJvmIsListedAndRunnableHere() throws Exception {
        try (TestRoots dirs = new TestRoots()) {
            try (Berth berth = dirs.open()) {
                Namespace ns = berth.namespace("shared");
                assertThat(ns.images().list()).isEmpty();

                List<String> printed = runChild(dirs, TestRoots.busyboxArchive(), "shared");

                assertThat(printed).containsExactly(TestRoots.BUSYBOX);
                assertThat(ns.images().list()).extracting(Image::name).containsExactly(TestRoots.BUSYBOX);
                RunResult r = ns.runAndWait("busybox", RunOptions.builder().rm(true)
                        .args("cat", "/etc/group").build());
                assertThat(r.exitCode()).isZero();
                assertThat(r.stdout()).contains("app:x:1000:");
                assertThat(ns.containers().list()).isEmpty();
                assertThat(ns.leases().list()).as("the child's temporary lease is gone").isEmpty();
            }
        }
    }

    private static List<String> runChild(TestRoots dirs, Path archive, String namespace) throws IOException,
            InterruptedException {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), ImportInChild.class.getName(),
                dirs.root.toString(), dirs.state.toString(), archive.toString(), namespace)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("child finished").isTrue();
            assertThat(p.exitValue()).as("child exit code").isZero();
            return out.lines().toList();
        } finally {
            p.destroyForcibly();
        }
    }
}
