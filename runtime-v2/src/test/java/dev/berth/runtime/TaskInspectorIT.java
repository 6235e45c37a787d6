package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskProcess;
import dev.berth.api.task.TaskRuntime;
import dev.berth.api.task.TaskSnapshot;
import dev.berth.api.task.TaskStatus;

import dev.berth.runtime.testing.BusyboxRootfs;
import dev.berth.runtime.testing.ChildRuntime;
import dev.berth.runtime.testing.RuncSpec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TaskRuntime#inspect}: the tasks of a state directory seen from outside its owning runtime, with
 * real shims, while the owner (this JVM or another) keeps using them undisturbed.
 */
class TaskInspectorIT {
    private static final String NS = "berth-inspect-it";
    private static final Duration AWAIT = Duration.ofSeconds(30);

    @TempDir
    static Path shared;
    static Path rootfs;

    @TempDir
    Path state;

    TaskRuntime runtime;
    final List<String> ids = new ArrayList<>();
    final List<Process> children = new ArrayList<>();
    final List<Long> stoppedShims = new ArrayList<>();

    @BeforeAll
    static void buildRootfs() throws Exception {
        rootfs = BusyboxRootfs.populate(Files.createDirectories(shared.resolve("rootfs")));
    }

    @AfterEach
    void noLeftovers() throws Exception {
        for (long shim : stoppedShims) {
            signal("CONT", shim);
        }
        for (Process child : children) {
            child.destroyForcibly().waitFor();
        }
        try {
            if (runtime == null) {
                runtime = open();
            }
            for (Task t : runtime.tasks()) {
                t.delete(true);
            }
            for (String id : ids) {
                Leftovers.assertNone(state, NS, id);
            }
        } finally {
            runtime.close();
        }
    }

    TaskRuntime open() {
        return TaskRuntimes.builder().stateDir(state).build();
    }

    String newId() {
        String id = "i-" + UUID.randomUUID().toString().substring(0, 8);
        ids.add(id);
        return id;
    }

    Task startSleeper(String id) {
        Task task = runtime.create(TaskConfig.builder(id).namespace(NS)
                .spec(RuncSpec.of("sleep", "600").root(rootfs.toString()).toJson()).build());
        task.start();
        return task;
    }

    static void signal(String name, long pid) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    }

    static long onlyShimOf(String id) {
        List<Long> shims = Leftovers.shimProcesses(id);
        assertThat(shims).as("shim of " + id).hasSize(1);
        return shims.get(0);
    }

    @Test
    void runningThenStoppedTaskIsReportedWithoutDisturbingItsOwner() throws Exception {
        runtime = open();
        String id = newId();
        Task task = startSleeper(id);
        long shim = onlyShimOf(id);

        try (TaskInspector inspector = TaskRuntimes.inspect(state)) {
            assertThat(inspector.list(NS)).singleElement().satisfies(s -> {
                assertThat(s.id()).isEqualTo(id);
                assertThat(s.namespace()).isEqualTo(NS);
                assertThat(s.pid()).isEqualTo(task.pid());
                assertThat(s.status()).isEqualTo(TaskStatus.RUNNING);
                assertThat(s.exit()).isEmpty();
                assertThat(s.error()).isEmpty();
                assertThat(s.bundle()).isEqualTo(state.resolve("tasks").resolve(NS).resolve(id));
            });
            assertThat(inspector.list()).extracting(TaskSnapshot::id).containsExactly(id);
            assertThat(inspector.pids(NS, id)).extracting(TaskProcess::pid).contains(task.pid());

            task.kill(9);
            assertThat(task.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(137));

            Optional<TaskSnapshot> stopped = inspector.get(NS, id);
            assertThat(stopped).hasValueSatisfying(s -> {
                assertThat(s.status()).isEqualTo(TaskStatus.STOPPED);
                assertThat(s.exit()).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(137));
            });
        }

        assertThat(state.resolve("tasks").resolve(NS).resolve(id)).as("bundle after listing").isDirectory();
        assertThat(Leftovers.shimProcesses(id)).as("the shim after listing").containsExactly(shim);
        assertThat(task.state().status()).as("the owner's own connection").isEqualTo(TaskStatus.STOPPED);
        assertThat(task.delete().code()).as("the owner deletes it").isEqualTo(137);
        // noLeftovers: no shim, socket, bundle, runc state or mount remains
    }

    @Test
    void tasksOfARuntimeInAnotherJvmAreListedAndOpenedWhileItRuns() throws Exception {
        String id = newId();
        int pid = startChild(NS + "/" + id + ":long");
        Process child = children.get(0);

        try (TaskInspector inspector = TaskRuntimes.inspect(state)) {
            assertThat(inspector.list(NS)).singleElement().satisfies(s -> {
                assertThat(s.id()).isEqualTo(id);
                assertThat(s.pid()).isEqualTo(pid);
                assertThat(s.status()).isEqualTo(TaskStatus.RUNNING);
            });
        }
        try (TaskRuntime here = open()) {
            assertThat(here.get(NS, id)).as("a runtime of its own on the same state sees the task").isPresent();
        }
        assertThat(child.isAlive()).as("the owner").isTrue();
        // noLeftovers kills the child and removes the task through a runtime of its own
    }

    @Test
    void taskWhoseShimIsGoneIsUnknownAndLeftForTheNextOwner() throws Exception {
        runtime = open();
        String id = newId();
        String alive = newId();
        startSleeper(id);
        Task other = startSleeper(alive);
        runtime.close(); // tasks outlive it; a live owner would clean up after a dying shim at once
        long shim = onlyShimOf(id);
        ProcessHandle.of(shim).orElseThrow().destroyForcibly();
        await().atMost(AWAIT).until(() -> Leftovers.shimProcesses(id).isEmpty());

        try (TaskInspector inspector = TaskRuntimes.inspect(state)) {
            List<TaskSnapshot> tasks = inspector.list(NS);
            assertThat(tasks).extracting(TaskSnapshot::id).containsExactlyInAnyOrder(id, alive);
            TaskSnapshot gone = tasks.stream().filter(s -> s.id().equals(id)).findFirst().orElseThrow();
            assertThat(gone.status()).isEqualTo(TaskStatus.UNKNOWN);
            assertThat(gone.error()).hasValueSatisfying(e -> assertThat(e).contains("does not answer"));
            TaskSnapshot running = tasks.stream().filter(s -> s.id().equals(alive)).findFirst().orElseThrow();
            assertThat(running.status()).isEqualTo(TaskStatus.RUNNING);
            assertThat(running.pid()).isEqualTo(other.pid());
        }
        assertThat(state.resolve("tasks").resolve(NS).resolve(id)).as("the listing removes nothing").isDirectory();

        runtime = open(); // the next owner cleans the dead shim's bundle up, as always
        assertThat(runtime.tasks()).extracting(Task::id).containsExactly(alive);
    }

    @Test
    void hungShimMakesOnlyItsOwnTaskUnknown() throws Exception {
        runtime = open();
        String hung = newId();
        String fine = newId();
        startSleeper(hung);
        Task other = startSleeper(fine);
        long shim = onlyShimOf(hung);
        stoppedShims.add(shim);
        signal("STOP", shim);

        try (TaskInspector inspector = TaskRuntimes.inspect(state, Duration.ofMillis(500))) {
            List<TaskSnapshot> tasks = inspector.list(NS);
            assertThat(tasks).extracting(TaskSnapshot::id, TaskSnapshot::status).containsExactlyInAnyOrder(
                    org.assertj.core.groups.Tuple.tuple(hung, TaskStatus.UNKNOWN),
                    org.assertj.core.groups.Tuple.tuple(fine, TaskStatus.RUNNING));
            assertThat(tasks).filteredOn(s -> s.id().equals(hung)).singleElement()
                    .satisfies(s -> assertThat(s.error()).isPresent());
        }
        signal("CONT", shim);
        stoppedShims.clear();
        assertThat(runtime.get(NS, hung).orElseThrow().state().status()).as("the owner, once the shim runs again")
                .isEqualTo(TaskStatus.RUNNING);
        assertThat(other.isAlive()).isTrue();
    }

    /** Starts a {@link ChildRuntime} JVM owning the state with {@code task}; returns the task's pid. */
    int startChild(String task) throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), ChildRuntime.class.getName(),
                state.toString(), rootfs.toString(), task);
        Process child = new ProcessBuilder(cmd)
                .redirectError(state.resolveSibling(state.getFileName() + "-child.log").toFile())
                .start();
        children.add(child);
        CompletableFuture<Integer> ready = CompletableFuture.supplyAsync(() -> {
            int pid = 0;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("TASK ")) {
                        pid = Integer.parseInt(line.split(" ")[2]);
                    } else if (line.equals("READY")) {
                        return pid;
                    }
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            throw new IllegalStateException("child JVM ended before READY");
        });
        return ready.get(60, TimeUnit.SECONDS);
    }
}
