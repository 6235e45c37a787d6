package dev.berth.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.TestFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a user of the published artifacts does: a separate Maven project that imports {@code berth-bom} and
 * depends on {@code berth-core} and the test kit {@code berth-testing}, built offline against the installed
 * artifacts, whose test builds a busybox image and runs a container from it.
 *
 * <p>Nothing is installed into the shared {@code ~/.m2}: this checkout's sources are copied (without
 * {@code target} directories, as a fresh clone) and installed with {@code mvn -o install} into a private
 * local repository seeded from {@code ~/.m2} (the third-party artifacts hard-linked, metadata copied, Berth's
 * own left out), and the consumer project is built with that repository.
 */
class ConsumerProjectIT {
    private static final String VERSION = "0.1.0-SNAPSHOT";
    private Path work;

    @BeforeEach
    void dir() throws IOException {
        work = Files.createTempDirectory("berth-consumer-");
    }

    @AfterEach
    void cleanUp() throws IOException {
        TestFiles.deleteTree(work);
    }

    @Test
    void aProjectImportingTheBomAndTheTestKitBuildsOfflineAndRunsAContainer() throws Exception {
        Path checkout = Path.of(System.getProperty("user.dir")).getParent();
        Path sources = work.resolve("berth");
        Path repo = work.resolve("repo");
        copySources(checkout, sources);
        seedRepository(Path.of(System.getProperty("user.home"), ".m2", "repository"), repo);

        Result install = mvn(sources, repo, "install", "-DskipTests", "-Dberth.itCheck.skip=true",
                "-Dmaven.javadoc.skip=true");
        assertThat(install.code()).as("mvn -o install of a fresh checkout:\n" + install.tail()).isZero();
        assertThat(repo.resolve("dev/berth/berth-bom/" + VERSION)).isDirectory();
        assertThat(repo.resolve("dev/berth/berth-testing/" + VERSION)).isDirectory();

        Path consumer = writeConsumer(work.resolve("consumer"));
        Result test = mvn(consumer, repo, "test");
        assertThat(test.code()).as("the consumer's build:\n" + test.tail()).isZero();
        String report = Files.readString(consumer.resolve("target/surefire-reports/demo.BusyboxRunsTest.txt"));
        assertThat(report).contains("Tests run: 1, Failures: 0, Errors: 0, Skipped: 0");
        assertThat(Files.readString(consumer.resolve("target/container-output.txt"))).isEqualTo("hello from a consumer\n");
    }

    private static Path writeConsumer(Path dir) throws IOException {
        Path test = Files.createDirectories(dir.resolve("src/test/java/demo"));
        Files.writeString(dir.resolve("pom.xml"), """
                <?xml version="1.0" encoding="UTF-8"?>
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>demo</groupId>
                  <artifactId>berth-consumer</artifactId>
                  <version>1</version>
                  <properties>
                    <maven.compiler.release>17</maven.compiler.release>
                    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
                  </properties>
                  <dependencyManagement>
                    <dependencies>
                      <dependency>
                        <groupId>dev.berth</groupId><artifactId>berth-bom</artifactId><version>%s</version>
                        <type>pom</type><scope>import</scope>
                      </dependency>
                    </dependencies>
                  </dependencyManagement>
                  <dependencies>
                    <dependency><groupId>dev.berth</groupId><artifactId>berth-core</artifactId></dependency>
                    <dependency><groupId>dev.berth</groupId><artifactId>berth-testing</artifactId><scope>test</scope></dependency>
                    <dependency>
                      <groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter</artifactId>
                      <version>5.14.1</version><scope>test</scope>
                    </dependency>
                  </dependencies>
                  <build>
                    <plugins>
                      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
                      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
                      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-surefire-plugin</artifactId><version>3.5.2</version></plugin>
                    </plugins>
                  </build>
                </project>
                """.formatted(VERSION));
        Files.writeString(test.resolve("BusyboxRunsTest.java"), """
                package demo;

                import dev.berth.Berth;
                import dev.berth.Namespace;
                import dev.berth.RunOptions;
                import dev.berth.api.task.RunResult;
                import dev.berth.testing.Busybox;
                import dev.berth.testing.OciLayout;
                import java.nio.file.Files;
                import java.nio.file.Path;
                import org.junit.jupiter.api.Test;
                import org.junit.jupiter.api.io.TempDir;

                class BusyboxRunsTest {
                    @TempDir
                    Path dir;

                    @Test
                    void aContainerFromATestImageRuns() throws Exception {
                        Path archive = dir.resolve("busybox.tar");
                        OciLayout.builder().image("demo.test/busybox:1", Busybox.image()).writeTar(archive);
                        Path state = Files.createTempDirectory(Path.of("/tmp"), "bcn-");
                        try (Berth berth = Berth.builder().root(dir.resolve("root")).stateDir(state).build()) {
                            Namespace ns = berth.namespace("consumer");
                            ns.importImage(archive);
                            RunResult r = ns.runAndWait("demo.test/busybox:1", RunOptions.builder().id("hello")
                                    .rm(true).args("echo", "hello from a consumer").build());
                            if (r.exitCode() != 0) {
                                throw new AssertionError("exit " + r.exitCode() + ": " + r.stderr());
                            }
                            Files.writeString(Path.of("target", "container-output.txt"), r.stdout());
                        }
                    }
                }
                """);
        return dir;
    }

    /** The checkout as a fresh clone has it: no build output, no VCS data. */
    private static void copySources(Path from, Path to) throws IOException {
        Set<String> skipped = Set.of("target", ".git", ".idea");
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!dir.equals(from) && skipped.contains(dir.getFileName().toString())) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile()) {
                    Files.copy(file, to.resolve(from.relativize(file).toString()),
                            java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * A private local repository with what {@code ~/.m2} holds: jars and poms hard-linked (Maven never rewrites
     * a resolved artifact), everything else (metadata Maven may update in place) copied, and Berth's own
     * artifacts left out, so installing them cannot write through a link into the shared repository.
     */
    private static void seedRepository(Path shared, Path repo) throws IOException {
        Files.createDirectories(repo);
        if (!Files.isDirectory(shared)) {
            return;
        }
        Path own = shared.resolve("dev/berth");
        Files.walkFileTree(shared, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (dir.equals(own)) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                Files.createDirectories(repo.resolve(shared.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Path target = repo.resolve(shared.relativize(file).toString());
                String name = file.getFileName().toString();
                if (name.endsWith(".jar") || name.endsWith(".pom")) {
                    try {
                        Files.createLink(target, file);
                        return FileVisitResult.CONTINUE;
                    } catch (IOException | UnsupportedOperationException otherFileSystem) {
                        // copied below
                    }
                }
                if (attrs.isRegularFile()) {
                    Files.copy(file, target);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private record Result(int code, String output) {
        String tail() {
            List<String> lines = output.lines().toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        }
    }

    private static Result mvn(Path dir, Path repo, String... goals) throws Exception {
        List<String> command = new ArrayList<>(List.of("mvn", "-o", "-B", "-ntp", "-Dmaven.repo.local=" + repo));
        command.addAll(List.of(goals));
        Path log = Files.createTempFile(dir.getParent(), "mvn-", ".log");
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(20, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("mvn " + String.join(" ", goals) + " in " + dir + " did not finish in 20 min");
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
