package dev.berth.cli;

import dev.berth.cli.BerthCommand.Result;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.snapshot.mount.Mounts;
import dev.berth.testing.Busybox;
import dev.berth.testing.OciLayout;
import dev.berth.testing.TestFiles;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/berth} on a state directory whose task runtime an application (another JVM) holds: the
 * read-only task commands show its tasks, the others fail naming the holder.
 */
class HeldStateCliIT {
    private static final String BUSYBOX = "docker.io/library/busybox:latest";

    private Path root;
    private Path state;
    private Path archive;

    @BeforeEach
    void setUp() throws IOException {
        root = Files.createTempDirectory("berth-held-root-");
        state = Files.createTempDirectory(Path.of("/tmp"), "bhs-");
        archive = root.resolveSibling(root.getFileName() + "-busybox.tar");
        OciLayout.builder().image(BUSYBOX, Busybox.image()).writeTar(archive);
    }

    @AfterEach
    void tearDown() throws IOException {
        try {
            assertThat(Mounts.mountPointsUnder(root)).as("mounts under the root").isEmpty();
            assertThat(Mounts.mountPointsUnder(state)).as("mounts under the state").isEmpty();
        } finally {
            TestFiles.deleteTree(root);
            TestFiles.deleteTree(state);
            Files.deleteIfExists(archive);
        }
    }

    private Result berth(String... args) throws IOException, InterruptedException {
        return new BerthCommand(root, state).run(args);
    }

    @Test
    void tasksOfARunningApplicationAreListedAndSignalledFromTheCli() throws Exception {
        String id = "app-" + UUID.randomUUID().toString().substring(0, 8);
        Process app = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), HoldTaskInApplication.class.getName(),
                root.toString(), state.toString(), archive.toString(), BUSYBOX, id)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(app.getInputStream(),
                StandardCharsets.UTF_8));
             Writer in = new OutputStreamWriter(app.getOutputStream(), StandardCharsets.UTF_8)) {
            String pid = expect(out, "PID ");

            Result ls = berth("tasks", "ls");
            assertThat(ls.exitCode()).as(ls.stderr()).isZero();
            assertThat(ls.stdout()).containsPattern(id + "\\s+" + pid + "\\s+RUNNING");
            Result ps = berth("tasks", "ps", id);
            assertThat(ps.exitCode()).as(ps.stderr()).isZero();
            assertThat(ps.stdout()).contains(pid).contains("sleep 600");

            Result signal = berth("tasks", "kill", "-s", "CONT", id);
            assertThat(signal.exitCode()).as("any process signals any task: " + signal.stderr()).isZero();
            assertThat(berth("tasks", "ls").stdout()).as("still running").containsPattern(id + "\\s+" + pid + "\\s+RUNNING");

            command(in, "kill");
            assertThat(expect(out, "EXITED ")).isEqualTo("137");
            assertThat(berth("tasks", "ls").stdout()).containsPattern(id + "\\s+" + pid + "\\s+STOPPED");
            assertThat(state.resolve("tasks/default").resolve(id)).as("bundle after listing").isDirectory();

            command(in, "delete");
            assertThat(expect(out, "DELETED")).isEmpty();
            assertThat(berth("tasks", "ls").stdout().lines().toList()).as("only the header").hasSize(1);
        } finally {
            assertThat(app.waitFor(60, TimeUnit.SECONDS)).as("application finished").isTrue();
            app.destroyForcibly();
        }
        assertThat(app.exitValue()).as("application's exit code").isZero();
        assertThat(state.resolve("tasks/default").resolve(id)).doesNotExist();
    }

    @Test
    void eventsInOneProcessShowARunWithRmInAnotherInOrder() throws Exception {
        assertThat(berth("images", "import", archive.toString()).exitCode()).isZero();
        String id = "ev-" + UUID.randomUUID().toString().substring(0, 8);
        java.time.Instant before = java.time.Instant.now();
        // --since: the follower cannot miss what happens before it has opened the journal
        Process events = new ProcessBuilder(BerthCommand.BIN.toString(), "--root", root.toString(), "--state",
                state.toString(), "--json", "events", "--since", before.toString(), "--count", "6",
                "event.id==" + id, "event.containerId==" + id)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            Result run = berth("run", "--rm", BUSYBOX, id, "true");
            assertThat(run.exitCode()).as(run.stderr()).isZero();
            assertThat(events.waitFor(60, TimeUnit.SECONDS)).as("berth events saw 6 events").isTrue();
            List<String> topics = new ArrayList<>();
            for (String line : new String(events.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                    .lines().toList()) {
                topics.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(line).get("topic").asText());
            }
            assertThat(topics).containsExactly("/containers/create", "/tasks/create", "/tasks/start", "/tasks/exit",
                    "/tasks/delete", "/containers/delete");
        } finally {
            events.destroyForcibly();
        }
    }

    @Test
    void taskWhoseShimIsGoneIsListedAsUnknownWithTheReason() throws Exception {
        Path ghost = Files.createDirectories(state.resolve("tasks/default/ghost"));
        Files.writeString(ghost.resolve("config.json"), "{}");
        Files.writeString(ghost.resolve("address"), "unix://" + state.resolve("no-shim.sock"));

        Result ls = berth("tasks", "ls");

        assertThat(ls.exitCode()).as(ls.stderr()).isZero();
        assertThat(ls.stdout()).containsPattern("ghost\\s+0\\s+UNKNOWN");
        assertThat(ls.stderr()).contains("ghost").contains("does not answer").contains("no-shim.sock");
        assertThat(ghost.resolve("config.json")).as("the listing leaves the bundle").exists();
    }

    private static void command(Writer in, String line) throws IOException {
        in.write(line + "\n");
        in.flush();
    }

    private static String expect(BufferedReader out, String prefix) throws IOException {
        String line = out.readLine();
        assertThat(line).as("application's answer").isNotNull().startsWith(prefix);
        return line.substring(prefix.length());
    }
}
