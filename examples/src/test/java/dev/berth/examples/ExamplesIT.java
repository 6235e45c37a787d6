package dev.berth.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.snapshot.mount.Mounts;
import dev.berth.testing.TestFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Runs each example program as users would (its own JVM, a fresh root) and checks what it prints. */
class ExamplesIT {
    private Path root;
    private Path state;

    @BeforeEach
    void dirs() throws IOException {
        root = Files.createTempDirectory("berth-examples-");
        state = Files.createTempDirectory(Path.of("/tmp"), "bex-");
    }

    @AfterEach
    void cleanUp() throws IOException {
        assertThat(Mounts.mountPointsUnder(root)).isEmpty();
        TestFiles.deleteTree(root);
        TestFiles.deleteTree(state);
    }

    private String run(Class<?> example, String... args) throws Exception {
        var command = new java.util.ArrayList<>(java.util.List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), example.getName()));
        command.addAll(java.util.List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("BERTH_ROOT", root.toString());
        pb.environment().put("BERTH_STATE", state.toString());
        Process p = pb.start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        assertThat(p.waitFor(180, TimeUnit.SECONDS)).as(example.getSimpleName() + " finished").isTrue();
        assertThat(p.exitValue()).as(example.getSimpleName() + " failed: " + err.join()).isZero();
        return out;
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void runAndCapturePrintsTheContainersOutputAndExitCode() throws Exception {
        String out = run(RunAndCapture.class);

        assertThat(out.lines().toList()).containsExactly("stdout: running as root on capture",
                "stderr: to-stderr", "exit code: 7");
    }

    @Test
    void inspectImageShowsLayersUnpackedIntoSnapshots() throws Exception {
        String out = run(InspectImage.class);

        assertThat(out).startsWith(DemoImage.NAME + "\n").contains("platform: linux/")
                .contains("layer 0:").contains("COMMITTED").contains("cmd:      [/usr/local/bin/greet]");
    }

    @Test
    void streamEventsSeesTheContainerAndTaskLifecycle() throws Exception {
        String out = run(StreamEvents.class);

        assertThat(out).contains("events-example /images/create").contains("/containers/create")
                .contains("/tasks/start").contains("/tasks/exit").contains("/tasks/delete")
                .contains("/containers/delete");
    }

    @Test
    void execIntoTaskPrintsTheExecsOutputAndLeavesNoTask() throws Exception {
        String out = run(ExecIntoTask.class);

        assertThat(out).contains("exec output: hello from exec-example\n").contains("exec exit code: 0\n")
                .contains(" (init)").endsWith("removed exec-example\n");
        assertThat(state.resolve("tasks/default/exec-example")).doesNotExist();
        try (var berth = dev.berth.Berth.builder().root(root).stateDir(state).build()) {
            assertThat(berth.tasks().list()).isEmpty();
            assertThat(berth.containers().list()).isEmpty();
        }
    }

    @Test
    void demoImageArchiveImportsAndGreets() throws Exception {
        Path archive = root.resolve("demo.tar");
        run(DemoImage.class, archive.toString());
        try (var berth = dev.berth.Berth.builder().root(root).stateDir(state).build()) {
            berth.importImage(archive);
            var r = berth.runAndWait(DemoImage.NAME, dev.berth.RunOptions.builder().hostname("berth-demo")
                    .rm(true).build());
            assertThat(r.exitCode()).isZero();
            assertThat(r.stdout()).startsWith("Hello from a Berth container").contains("hostname: berth-demo")
                    .contains("/usr/local/bin/greet").contains("ps");
        }
    }
}
