package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskProcess;
import dev.berth.api.task.TaskStatus;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** A second Berth on a root whose task runtime another JVM holds: it sees the tasks but cannot change them. */
class ReadOnlyTasksIT {
    private static final String NS = "held";

    @Test
    void tasksOfAnotherProcessAreListedReadOnlyAndStayItsOwn() throws Exception {
        String id = "held-" + UUID.randomUUID().toString().substring(0, 8);
        try (TestRoots dirs = new TestRoots()) {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                    "-cp", System.getProperty("java.class.path"), HoldTaskInChild.class.getName(),
                    dirs.root.toString(), dirs.state.toString(), TestRoots.busyboxArchive().toString(), NS, id)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Path bundle = dirs.state.resolve("tasks").resolve(NS).resolve(id);
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
                 Writer in = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8)) {
                int pid = Integer.parseInt(expect(out, "PID "));

                try (Berth berth = dirs.open()) {
                    Tasks tasks = berth.namespace(NS).tasks();

                    assertThat(tasks.inspect()).singleElement().satisfies(s -> {
                        assertThat(s.id()).isEqualTo(id);
                        assertThat(s.pid()).isEqualTo(pid);
                        assertThat(s.status()).isEqualTo(TaskStatus.RUNNING);
                    });
                    assertThat(tasks.processes(id)).extracting(TaskProcess::pid).contains(pid);
                    assertThat(berth.runtimeIfStarted()).as("reading starts no runtime here").isNull();
                    assertThat(tasks.list()).as("a runtime of this process beside the child's")
                            .extracting(Task::id).containsExactly(id);
                    assertThat(tasks.get(id).orElseThrow().pid()).isEqualTo(pid);
                    assertThatThrownBy(() -> berth.namespace(NS).containers().get(id).delete())
                            .isInstanceOf(FailedPreconditionException.class)
                            .hasMessageContaining("has not exited");

                    command(in, "kill");
                    assertThat(expect(out, "EXITED ")).isEqualTo("137");
                    assertThat(tasks.inspect(id)).hasValueSatisfying(s -> {
                        assertThat(s.status()).isEqualTo(TaskStatus.STOPPED);
                        assertThat(s.pid()).isEqualTo(pid);
                        assertThat(s.exit()).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(137));
                    });
                    assertThat(bundle).as("the listing removed nothing").isDirectory();

                    command(in, "delete");
                    assertThat(expect(out, "DELETED")).isEmpty();
                    assertThat(tasks.inspect()).isEmpty();
                    assertThat(tasks.inspect(id)).isEmpty();
                }
            } finally {
                assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("child finished").isTrue();
                child.destroyForcibly();
            }
            assertThat(child.exitValue()).as("child exit code").isZero();
            assertThat(bundle).doesNotExist();
            assertThat(dirs.state.resolve("runc").resolve(NS).resolve(id)).as("runc state").doesNotExist();
            assertThat(shimsOf(id)).as("shim processes").isEmpty();
        }
    }

    private static void command(Writer in, String line) throws IOException {
        in.write(line + "\n");
        in.flush();
    }

    /** The rest of the next line, which must start with {@code prefix}. */
    private static String expect(BufferedReader out, String prefix) throws IOException {
        String line = out.readLine();
        assertThat(line).as("child's answer").isNotNull().startsWith(prefix);
        return line.substring(prefix.length());
    }

    private static List<Long> shimsOf(String id) throws IOException {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> {
                        try {
                            String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8)
                                    .replace('\0', ' ');
                            return cmd.contains("containerd-shim") && cmd.contains(" -id " + id + " ");
                        } catch (IOException e) {
                            return false;
                        }
                    })
                    .map(p -> Long.parseLong(p.getFileName().toString())).toList();
        }
    }
}
