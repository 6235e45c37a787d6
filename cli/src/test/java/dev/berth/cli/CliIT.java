package dev.berth.cli;

import dev.berth.cli.BerthCommand.Result;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.snapshot.mount.Mounts;
import dev.berth.testing.Busybox;
import dev.berth.testing.OciLayout;
import dev.berth.testing.TestFiles;
import dev.berth.testing.TestRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@code bin/berth} run as a process, as users run it, against one root: each step's output and exit
 * code are what a user would see.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliIT {
    private static final String BUSYBOX = "docker.io/library/busybox:latest";

    private Path root;
    private Path state;
    private Path archive;

    @BeforeAll
    void setUp() throws IOException {
        root = Files.createTempDirectory("berth-cli-root-");
        state = Files.createTempDirectory(Path.of("/tmp"), "bcs-");
        archive = root.resolveSibling(root.getFileName() + "-busybox.tar");
        OciLayout.builder().image(BUSYBOX, Busybox.image()).writeTar(archive);
    }

    @AfterAll
    void tearDown() throws IOException {
        assertThat(Mounts.mountPointsUnder(root)).isEmpty();
        TestFiles.deleteTree(root);
        TestFiles.deleteTree(state);
        Files.deleteIfExists(archive);
    }

    private Result berth(String... args) throws IOException, InterruptedException {
        return new BerthCommand(root, state).run(args);
    }

    @Test
    @Order(1)
    void importPrintsTheImportedNames() throws Exception {
        Result r = berth("images", "import", archive.toString());

        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout()).isEqualTo(BUSYBOX + "\n");
    }

    @Test
    @Order(2)
    void exportShowsItsProgressAsPlainLinesOrRedrawnOnATerminalAndNothingWhenQuiet() throws Exception {
        Path plainFile = root.resolveSibling(root.getFileName() + "-export.tar");
        Path ttyFile = root.resolveSibling(root.getFileName() + "-export-tty.tar");
        try {
            Result plain = berth("images", "export", plainFile.toString(), BUSYBOX);
            assertThat(plain.exitCode()).as(plain.stderr()).isZero();
            String size = Output.size(Files.size(plainFile));
            assertThat(plain.stderr()).startsWith("export " + plainFile.getFileName()).contains(" done ")
                    .contains(size).doesNotContain("\033[");

            Result quiet = berth("images", "export", "--quiet", plainFile.toString(), BUSYBOX);
            assertThat(quiet.exitCode()).as(quiet.stderr()).isZero();
            assertThat(quiet.stderr()).isEmpty();

            Result tty = new BerthCommand(root, state).onTerminal("images", "export", ttyFile.toString(), BUSYBOX);
            assertThat(tty.exitCode()).as(tty.stdout()).isZero();
            assertThat(tty.stdout()).contains("\r\033[2Kexport " + ttyFile.getFileName()).contains(size);
            assertThat(Files.mismatch(plainFile, ttyFile)).as("the same archive either way").isEqualTo(-1L);
        } finally {
            Files.deleteIfExists(plainFile);
            Files.deleteIfExists(ttyFile);
        }
    }

    @Test
    @Order(2)
    void imagesLsListsNamesAndJsonDetails() throws Exception {
        assertThat(berth("images", "ls", "--quiet").stdout()).isEqualTo(BUSYBOX + "\n");

        Result json = berth("--json", "images", "ls");
        JsonNode rows = new ObjectMapper().readTree(json.stdout());
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).get("ref").asText()).isEqualTo(BUSYBOX);
        assertThat(rows.get(0).get("digest").asText()).startsWith("sha256:");
        assertThat(rows.get(0).get("platform").asText()).startsWith("linux/");
    }

    @Test
    @Order(3)
    void runReturnsTheOutputAndTheProcessExitCode() throws Exception {
        Result hello = berth("run", "--rm", "--env", "WHO=cli", BUSYBOX, "echo1", "sh", "-c", "echo hello $WHO");
        assertThat(hello.exitCode()).as(hello.stderr()).isZero();
        assertThat(hello.stdout()).isEqualTo("hello cli\n");

        Result failing = berth("run", "--rm", BUSYBOX, "exit5", "sh", "-c", "exit 5");
        assertThat(failing.exitCode()).isEqualTo(5);

        assertThat(berth("containers", "ls", "-q").stdout()).as("--rm removed both").isEmpty();
    }

    @Test
    @Order(4)
    void containersCreateLsInfoRm() throws Exception {
        assertThat(berth("containers", "create", "--label", "app=web", BUSYBOX, "keep", "sleep", "1").exitCode())
                .isZero();

        assertThat(berth("containers", "ls", "-q").stdout()).isEqualTo("keep\n");
        assertThat(berth("containers", "ls").stdout()).contains("keep").contains(BUSYBOX)
                .contains("io.containerd.runc.v2");
        JsonNode info = new ObjectMapper().readTree(berth("containers", "info", "keep").stdout());
        assertThat(info.get("Image").asText()).isEqualTo(BUSYBOX);
        assertThat(info.get("Labels").get("app").asText()).isEqualTo("web");
        assertThat(info.at("/Spec/process/args").toString()).isEqualTo("[\"sleep\",\"1\"]");
        assertThat(berth("snapshots", "ls").stdout()).contains("keep").contains("Active");

        assertThat(berth("containers", "rm", "keep").exitCode()).isZero();
        assertThat(berth("containers", "ls", "-q").stdout()).isEmpty();
        assertThat(berth("snapshots", "ls").stdout()).doesNotContain("keep");
    }

    @Test
    @Order(5)
    void tasksOfADetachedRunAreReachedFromLaterProcesses() throws Exception {
        Result run = berth("run", "-d", BUSYBOX, "sleeper", "sleep", "600");
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        int initPid = 0;
        boolean removed = false;
        try {
            Result ls = berth("tasks", "ls");
            assertThat(ls.stdout()).containsPattern("sleeper\\s+\\d+\\s+RUNNING");
            initPid = Integer.parseInt(ls.stdout().lines().filter(l -> l.startsWith("sleeper")).findFirst()
                    .orElseThrow().split("\\s+")[1]);

            Result exec = berth("tasks", "exec", "--exec-id", "e1", "sleeper", "echo", "hi");
            assertThat(exec.exitCode()).as(exec.stderr()).isZero();
            assertThat(exec.stdout()).isEqualTo("hi\n");
            Result failing = berth("tasks", "exec", "--exec-id", "e2", "sleeper", "sh", "-c", "exit 3");
            assertThat(failing.exitCode()).as("exec's exit code").isEqualTo(3);

            Result ps = berth("tasks", "ps", "sleeper");
            assertThat(ps.exitCode()).as(ps.stderr()).isZero();
            assertThat(ps.stdout()).contains(Integer.toString(initPid)).contains("sleep 600");

            assertThat(berth("tasks", "pause", "sleeper").exitCode()).isZero();
            assertThat(berth("tasks", "ls").stdout()).containsPattern("sleeper\\s+\\d+\\s+PAUSED");
            assertThat(berth("tasks", "resume", "sleeper").exitCode()).isZero();
            assertThat(berth("tasks", "ls").stdout()).containsPattern("sleeper\\s+\\d+\\s+RUNNING");

            Result metrics = berth("tasks", "metrics", "sleeper");
            assertThat(metrics.exitCode()).as(metrics.stderr()).isZero();
            assertThat(metrics.stdout()).containsPattern("memory\\.usage\\s+[1-9]\\d*")
                    .containsPattern("pids\\.current\\s+1\\n");
            JsonNode json = new ObjectMapper().readTree(berth("--json", "tasks", "metrics", "sleeper").stdout());
            assertThat(json.at("/memory/usage").asLong()).isPositive();
            assertThat(json.at("/pids/current").asLong()).isEqualTo(1);

            Result busy = berth("containers", "rm", "sleeper");
            assertThat(busy.exitCode()).as("a running task keeps its container").isEqualTo(1);
            assertThat(busy.stderr()).contains("sleeper").contains("kill");

            Result kill = berth("tasks", "kill", "-s", "KILL", "sleeper");
            assertThat(kill.exitCode()).as(kill.stderr()).isZero();
            // the shim's exit event often comes in as the command closes: the shim publishes it again later
            assertThat(kill.stderr()).as("no warning").isEmpty();
            assertThat(berth("tasks", "ls").stdout()).containsPattern("sleeper\\s+\\d+\\s+STOPPED");

            Result rm = berth("tasks", "rm", "sleeper");
            assertThat(rm.exitCode()).as(rm.stderr()).isZero();
            assertThat(rm.stdout()).isEqualTo("sleeper exited 137\n");
            removed = true;
        } finally {
            if (!removed) {
                berth("tasks", "rm", "-f", "sleeper");
            }
        }
        assertThat(berth("containers", "rm", "sleeper").exitCode()).isZero();

        assertThat(berth("tasks", "ls").stdout().lines().toList()).as("only the header").hasSize(1);
        assertThat(berth("containers", "ls", "-q").stdout()).isEmpty();
        assertThat(state.resolve("tasks/default/sleeper")).doesNotExist();
        assertThat(Path.of("/proc", Integer.toString(initPid))).doesNotExist();
    }

    @Test
    @Order(6)
    void contentAndSnapshotsShowWhatTheImageHolds() throws Exception {
        List<String> digests = berth("content", "ls", "-q").stdout().lines().toList();
        assertThat(digests).hasSize(3).allMatch(d -> d.startsWith("sha256:"));
        for (String d : digests) {
            Result v = berth("content", "verify", d);
            assertThat(v.exitCode()).as(v.stderr()).isZero();
            assertThat(v.stdout()).startsWith(d + ": ok");
        }
        String snapshots = berth("snapshots", "ls").stdout();
        assertThat(snapshots.lines().toList()).hasSize(2);
        assertThat(snapshots).contains("Committed");
    }

    @Test
    @Order(10) // last: its namespace would show in namespacesAreSeparateAndListed
    void contentIngestStoresStdinFromAFileAndFromAPipe() throws Exception {
        // more than the writer's read-ahead threshold (8 MiB), so the channel path with its thread is taken
        byte[] data = new byte[9 << 20];
        new java.util.Random(21).nextBytes(data);
        String digest = dev.berth.api.Digest.sha256(data).toString();
        Path file = root.resolveSibling(root.getFileName() + "-ingest.bin");
        Files.write(file, data);
        try {
            Result fromFile = new BerthCommand(root, state).withInput(file, "-n", "ingest", "content", "ingest",
                    "--expected-size", String.valueOf(data.length), "from-file");
            assertThat(fromFile.exitCode()).as(fromFile.stderr()).isZero();
            assertThat(fromFile.stdout().trim()).isEqualTo(digest);
            assertThat(berth("-n", "ingest", "content", "rm", digest).exitCode()).isZero();

            Result fromPipe = new BerthCommand(root, state).withInput(data, "-n", "ingest", "content", "ingest",
                    "from-pipe");
            assertThat(fromPipe.exitCode()).as(fromPipe.stderr()).isZero();
            assertThat(fromPipe.stdout().trim()).isEqualTo(digest);
            Result verify = berth("-n", "ingest", "content", "verify", digest);
            assertThat(verify.stdout()).contains(digest + ": ok (" + data.length + " bytes)");

            Result shortInput = new BerthCommand(root, state).withInput(file, "-n", "ingest", "content", "ingest",
                    "--expected-size", String.valueOf(data.length + 1), "too-short");
            assertThat(shortInput.exitCode()).isEqualTo(1);
            assertThat(shortInput.stderr()).contains("expected " + (data.length + 1));
            assertThat(berth("-n", "ingest", "content", "rm", digest).exitCode()).isZero();
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    @Order(7)
    void pushedImagePullsIntoAnotherNamespaceAndRuns() throws Exception {
        Path registryDir = Files.createTempDirectory("berth-cli-registry-");
        try (TestRegistry registry = TestRegistry.create(registryDir).start()) {
            String remote = registry.host() + "/berth/busybox:cli";
            Result push = berth("images", "push", remote, BUSYBOX);
            assertThat(push.exitCode()).as(push.stderr()).isZero();
            // not a terminal: one plain line per blob, nothing redrawn
            assertThat(push.stderr()).containsPattern("(?m)^layer [0-9a-f]{12} +done .*/s").doesNotContain("\033[");

            Result pull = berth("-n", "pulled", "images", "pull", remote);
            assertThat(pull.exitCode()).as(pull.stderr()).isZero();
            assertThat(pull.stdout()).isEqualTo(remote + "\n");
            assertThat(pull.stderr()).containsPattern("(?m)^layer [0-9a-f]{12} +(done|exists) +(\\S+ \\S+) / \\2")
                    .doesNotContain("\033[");

            Result quiet = berth("-n", "pulled-quiet", "images", "pull", "--quiet", remote);
            assertThat(quiet.exitCode()).as(quiet.stderr()).isZero();
            assertThat(quiet.stderr()).isEmpty();

            // on a terminal: rows redrawn in place, ending with every blob done
            Result tty = new BerthCommand(root, state).onTerminal("-n", "pulled-tty", "images", "pull", remote);
            assertThat(tty.exitCode()).as(tty.stdout()).isZero();
            assertThat(tty.stdout()).contains("\r\033[2Klayer ").endsWith(remote + "\r\n");
            assertThat(tty.stdout().lines().filter(l -> l.contains("layer ")).reduce((a, b) -> b).orElseThrow())
                    .containsPattern("done|exists");
            for (String ns : List.of("pulled-quiet", "pulled-tty")) {
                assertThat(berth("-n", ns, "images", "rm", remote).exitCode()).isZero();
            }

            Result run = berth("-n", "pulled", "run", "--rm", remote, "from-registry", "echo", "pulled");
            assertThat(run.exitCode()).as(run.stderr()).isZero();
            assertThat(run.stdout()).isEqualTo("pulled\n");

            Result missing = berth("-n", "pulled", "images", "pull", registry.host() + "/berth/busybox:nosuch");
            assertThat(missing.exitCode()).isEqualTo(1);
            assertThat(missing.stderr()).contains("berth/busybox:nosuch");

            assertThat(berth("-n", "pulled", "images", "rm", remote).exitCode()).isZero();
            assertThat(berth("gc").exitCode()).isZero();
            for (String ns : List.of("pulled", "pulled-quiet", "pulled-tty")) {
                Result rmNamespace = berth("ns", "rm", ns);
                assertThat(rmNamespace.exitCode()).as(rmNamespace.stderr()).isZero();
            }
        } finally {
            TestFiles.deleteTree(registryDir);
        }
    }

    @Test
    @Order(7)
    void namespacesAreSeparateAndListed() throws Exception {
        assertThat(berth("-n", "other", "images", "ls", "-q").stdout()).isEmpty();
        assertThat(berth("ns", "create", "other", "team=x").exitCode()).isZero();
        assertThat(berth("ns", "ls", "-q").stdout().lines().toList()).containsExactly("default", "other");
        assertThat(berth("ns", "rm", "other").exitCode()).isZero();
        assertThat(berth("ns", "ls", "-q").stdout()).isEqualTo("default\n");
    }

    @Test
    @Order(8)
    void gcKeepsWhatTheImageReferencesAndRmFreesIt() throws Exception {
        Result gc = berth("gc");
        assertThat(gc.exitCode()).isZero();
        assertThat(gc.stdout()).startsWith("removed ").contains("freed 0 blobs");

        assertThat(berth("images", "rm", BUSYBOX).exitCode()).isZero();
        assertThat(berth("content", "ls", "-q").stdout()).isEmpty();
        assertThat(berth("snapshots", "ls").stdout().lines().toList()).hasSize(1); // the header only
    }

    @Test
    @Order(9)
    void errorsExitOneWithOneLineNamingTheProblem() throws Exception {
        Result r = berth("images", "rm", "nosuch:1");

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr().lines().toList()).hasSize(1);
        assertThat(r.stderr()).startsWith("berth: ").contains("nosuch");
    }
}
