package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.TestFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CLI run as an unprivileged user ({@code setpriv} to nobody): Berth says it needs root before it
 * creates anything, instead of failing deep in an unpack.
 */
class NonRootIT {
    private static final String NOBODY = "65534";

    private Path dir;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("berth-nonroot-");
        // nobody cannot read ~/.m2: give it world-readable copies of the CLI's jars.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    }

    @AfterEach
    void tearDown() throws IOException {
        TestFiles.deleteTree(dir);
    }

    @Test
    void openingARootAsNonRootSaysRootIsNeededAndCreatesNothing() throws Exception {
        String classpath = readableCopies();
        Path root = dir.resolve("root");

        Result r = runAsNobody(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classpath, "dev.berth.cli.Main", "--root", root.toString(), "--state",
                dir.resolve("state").toString(), "images", "ls");

        assertThat(r.exitCode()).as(r.stderr()).isEqualTo(1);
        assertThat(r.stderr()).startsWith("berth: Berth must run as root")
                .contains("runs as uid " + NOBODY)
                .contains("sudo")
                .doesNotContain("EPERM")
                .doesNotContain("Exception");
        assertThat(root).doesNotExist();
        assertThat(dir.resolve("state")).doesNotExist();
    }

    private String readableCopies() throws IOException {
        Path jars = Files.createDirectory(dir.resolve("jars"));
        Path target = Path.of(System.getProperty("user.dir")).resolve("target");
        List<Path> sources = new ArrayList<>();
        try (Stream<Path> files = Files.list(target)) {
            files.filter(p -> p.getFileName().toString().matches("berth-cli-[^-]+(-SNAPSHOT)?\\.jar"))
                    .forEach(sources::add);
        }
        assertThat(sources).as("the CLI jar in %s", target).hasSize(1);
        for (String entry : Files.readString(target.resolve("classpath.txt")).strip().split(":")) {
            sources.add(Path.of(entry));
        }
        List<String> copies = new ArrayList<>();
        for (Path source : sources) {
            Path copy = jars.resolve(copies.size() + "-" + source.getFileName());
            Files.copy(source, copy);
            Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
            copies.add(copy.toString());
        }
        Files.setPosixFilePermissions(jars, PosixFilePermissions.fromString("rwxr-xr-x"));
        return String.join(":", copies);
    }

    private record Result(int exitCode, String stdout, String stderr) {
    }

    private Result runAsNobody(String... command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY,
                "--clear-groups"));
        full.addAll(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(full).directory(dir.toFile());
        pb.environment().put("HOME", dir.toString());
        Process p = pb.start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("berth as nobody did not finish");
        }
        return new Result(p.exitValue(), out, err.join());
    }

    private static String read(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
