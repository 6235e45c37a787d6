package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.RunResult;
import dev.berth.api.task.RuncOptions;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskState;
import dev.berth.api.task.TaskStatus;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.BerthException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.Mount;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.TaskEvent;
import dev.berth.runtime.spec.SpecBuilder;
import dev.berth.runtime.testing.RuncSpec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Real containerd-shim-runc-v2 and runc running busybox. */
class TaskRuntimeIT extends LiveRuntimeTest {
    TaskRuntimeIT() {
        super("berth-it", "t-");
    }

    TaskConfig.Builder config(RuncSpec spec) {
        return TaskConfig.builder(newId()).namespace(namespace).spec(spec.root(rootfs.toString()).toJson());
    }

    @Test
    void echoOutputIsCaptured() throws Exception {
        RunResult result = runtime.run(config(RuncSpec.of("echo", "hello", "berth")).build());

        assertThat(result).isEqualTo(new RunResult("hello berth\n", "", 0));
    }

    @Test
    void specFromTheSpecBuilderRuns() throws Exception {
        String id = newId();
        byte[] spec = SpecBuilder.defaults(namespace, id).rootfs(rootfs).rootPath(rootfs.toString())
                .args("sh", "-c", "echo $(hostname)-ok").hostname("built").buildJson();

        RunResult result = runtime.run(TaskConfig.builder(id).namespace(namespace).spec(spec).build());

        assertThat(result).isEqualTo(new RunResult("built-ok\n", "", 0));
    }

    @Test
    void exitCodeIsReported() throws Exception {
        RunResult result = runtime.run(config(RuncSpec.of("sh", "-c", "echo oops >&2; exit 3")).build());

        assertThat(result.exitCode()).isEqualTo(3);
        assertThat(result.stderr()).isEqualTo("oops\n");
    }

    @Test
    void stdinIsPipedToTheProcess() throws Exception {
        byte[] input = "line one\nline two\n".getBytes(StandardCharsets.UTF_8);

        RunResult result = runtime.run(config(RuncSpec.of("cat")).build(), input);

        assertThat(result).isEqualTo(new RunResult("line one\nline two\n", "", 0));
    }

    @Test
    void envCwdAndUserAreApplied() throws Exception {
        RuncSpec spec = RuncSpec.of("sh", "-c", "echo $GREETING; pwd; id -u; id -g")
                .env("GREETING=ahoy").cwd("/tmp").user(1000, 1000);

        RunResult result = runtime.run(config(spec).build());

        assertThat(result).isEqualTo(new RunResult("ahoy\n/tmp\n1000\n1000\n", "", 0));
    }

    @Nested
    class Signals {
        @Test
        void sigtermGives143() throws Exception {
            // In its own pid namespace the process would be init, which ignores SIGTERM without a handler.
            Task task = runtime.create(config(RuncSpec.of("sleep", "60").hostPid()).build());
            task.start();
            task.kill(15);

            assertThat(task.waitFor().code()).isEqualTo(143);
            assertThat(task.waitFor().signal()).hasValue(15);
            assertThat(task.delete().code()).isEqualTo(143);
        }

        @Test
        void sigkillGives137() throws Exception {
            Task task = runtime.create(config(RuncSpec.of("sleep", "60")).build());
            task.start();
            assertThat(task.isAlive()).isTrue();
            task.kill(9);

            ExitStatus exit = task.waitFor();
            ExitStatus deleted = task.delete();

            assertThat(exit.code()).isEqualTo(137);
            assertThat(deleted.code()).isEqualTo(137);
        }
    }

    @Test
    void stateFollowsTheLifecycle() throws Exception {
        Task task = runtime.create(config(RuncSpec.of("sh", "-c", "read line; exit 7"))
                .stdio(Stdio.of(new java.io.PipedInputStream(new java.io.PipedOutputStream()), null, null)).build());
        assertThat(task.state().status()).isEqualTo(TaskStatus.CREATED);
        assertThat(task.pid()).isPositive();

        task.start();
        TaskState running = task.state();
        assertThat(running.status()).isEqualTo(TaskStatus.RUNNING);
        assertThat(running.pid()).isEqualTo(task.pid());
        assertThatThrownBy(task::delete).isInstanceOf(FailedPreconditionException.class);

        task.closeStdin();
        assertThat(task.waitFor().code()).isEqualTo(7);
        TaskState stopped = task.state();
        assertThat(stopped.status()).isEqualTo(TaskStatus.STOPPED);
        assertThat(stopped.exit()).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(7));
        assertThat(task.delete().code()).isEqualTo(7);
    }

    @Test
    void memoryLimitIsAppliedToTheCgroup() throws Exception {
        String cgroup = "/berth-it-" + UUID.randomUUID().toString().substring(0, 8);
        Task task = runtime.create(config(RuncSpec.of("sleep", "60").memoryLimit(64L << 20).cgroupsPath(cgroup))
                .build());
        task.start();
        Path limit = Path.of("/sys/fs/cgroup/memory" + cgroup + "/memory.limit_in_bytes");
        String value = Files.readString(limit).trim();
        task.delete(true);

        assertThat(value).isEqualTo(Long.toString(64L << 20));
        assertThat(Path.of("/sys/fs/cgroup/memory" + cgroup)).doesNotExist();
    }

    @Test
    void twentyTasksStartedConcurrentlyAllExitCleanly() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(20);
        try {
            List<Future<RunResult>> results = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                TaskConfig cfg = config(RuncSpec.of("echo", "task " + i)).build();
                results.add(pool.submit((Callable<RunResult>) () -> runtime.run(cfg)));
            }
            for (int i = 0; i < 20; i++) {
                assertThat(results.get(i).get(120, TimeUnit.SECONDS)).isEqualTo(new RunResult("task " + i + "\n", "", 0));
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(runtime.tasks()).isEmpty();
    }

    @Test
    void missingOciRuntimeFailsClearlyAndLeavesNothing() throws Exception {
        TaskConfig cfg = TaskConfig.builder(newId()).namespace(namespace)
                .spec(RuncSpec.of("true").root("rootfs").toJson())
                .rootfs(List.of(new Mount("bind", rootfs.toString(), List.of("rbind", "ro"))))
                .runcOptions(RuncOptions.builder().binaryName("/nonexistent").build())
                .build();

        assertThatThrownBy(() -> runtime.create(cfg))
                .isInstanceOf(BerthException.class)
                .hasMessageContaining("cannot create task " + namespace + "/" + cfg.id())
                .hasMessageContaining("/nonexistent");
        assertThat(runtime.tasks()).isEmpty();
    }

    @Test
    void shimMountsTheRootfsAndUnmountsItOnDelete() throws Exception {
        TaskConfig cfg = TaskConfig.builder(newId()).namespace(namespace)
                .spec(RuncSpec.of("ls", "/bin/busybox").root("rootfs").toJson())
                .rootfs(List.of(new Mount("bind", rootfs.toString(), List.of("rbind", "ro"))))
                .build();

        RunResult result = runtime.run(cfg);

        assertThat(result).isEqualTo(new RunResult("/bin/busybox\n", "", 0));
        assertThat(rootfs.resolve("bin/busybox")).exists();
    }

    @Test
    void terminalOutputArrivesOnStdout() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Task task = runtime.create(config(RuncSpec.of("sh", "-c", "tty; echo on-tty").terminal()).terminal(true)
                .stdio(Stdio.of(null, out, null)).build());
        task.start();

        assertThat(task.waitFor().code()).isZero();
        task.delete();

        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("/dev/pts/0\r\non-tty\r\n");
    }

    @Test
    void fileStdioAppendsOutputToTheFile() throws Exception {
        Path log = state.resolve("out.log");
        Files.writeString(log, "before\n");
        // Only stdout is asserted: containerd 1.6's shim copies both streams into the shared file and was
        // seen to drop stderr under load ("error copying stderr" in the shim log).
        Task task = runtime.create(config(RuncSpec.of("sh", "-c", "echo out; echo err >&2"))
                .stdio(Stdio.file(log)).build());
        task.start();
        assertThat(task.waitFor().code()).isZero();
        task.delete();

        assertThat(Files.readString(log)).startsWith("before\n").contains("out\n");
    }

    @Test
    void aProcessThatExitsAtOnceIsNotMissed() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Task task = runtime.create(config(RuncSpec.of("true")).stdio(Stdio.of(null, out, null)).build());
        task.start();
        Thread.sleep(200); // the exit has certainly happened before anyone asks
        assertThat(task.onExit().get(10, TimeUnit.SECONDS).code()).isZero();
        assertThat(task.isAlive()).isFalse();
        task.delete();
    }

    @Test
    void closingTheRuntimeLeavesTasksRunning() throws Exception {
        Task task = runtime.create(config(RuncSpec.of("sleep", "60")).build());
        task.start();
        int pid = task.pid();
        Path bundle = task.bundle();
        String id = task.id();

        runtime.close();

        assertThat(ProcessHandle.of(pid)).hasValueSatisfying(p -> assertThat(p.isAlive()).isTrue());
        assertThat(Leftovers.shimProcesses(id)).hasSize(1);
        assertThat(bundle.resolve("config.json")).exists();
        // No reconnect yet (issue 2/2): clean up the way containerd does for a shim it cannot reach.
        Process delete = new ProcessBuilder("containerd-shim-runc-v2", "-namespace", namespace, "-address",
                state.resolve("berth.sock").toString(), "-publish-binary", "/bin/false", "-id", id,
                "-bundle", bundle.toString(), "delete").directory(bundle.toFile()).start();
        assertThat(delete.waitFor()).isZero();
        for (long shim : Leftovers.shimProcesses(id)) {
            ProcessHandle.of(shim).ifPresent(ProcessHandle::destroy);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> Leftovers.shimProcesses(id).isEmpty());
        Files.deleteIfExists(Leftovers.shimSocket(state, namespace, id));
        dev.berth.runtime.internal.BundleAccess.delete(bundle);
        runtime = TaskRuntimes.builder().stateDir(state).events(events).build();
    }

    @Test
    void duplicateIdIsRejected() throws Exception {
        TaskConfig cfg = config(RuncSpec.of("sleep", "60")).build();
        Task task = runtime.create(cfg);

        assertThatThrownBy(() -> runtime.create(cfg)).isInstanceOf(AlreadyExistsException.class)
                .hasMessageContaining(cfg.id());
        task.delete(true);
    }

    @Test
    void taskEventsArriveInOrder() throws Exception {
        TaskConfig cfg = config(RuncSpec.of("echo", "hi")).build();
        runtime.run(cfg);

        await().atMost(Duration.ofSeconds(10)).until(() -> eventsOf(cfg.id()).size() >= 4);
        List<Envelope> seen = eventsOf(cfg.id());
        assertThat(seen).extracting(Envelope::topic)
                .containsExactly("/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete");
        assertThat(seen).extracting(Envelope::namespace).containsOnly(namespace);
        assertThat(seen.get(2).event()).isInstanceOfSatisfying(TaskEvent.Exit.class, e -> {
            assertThat(e.exitStatus()).isZero();
            assertThat(e.id()).isEqualTo(cfg.id());
        });
        assertThat(seen.get(0).event()).isInstanceOfSatisfying(TaskEvent.Create.class,
                e -> assertThat(e.bundle()).isEqualTo(state.resolve("tasks").resolve(namespace).resolve(cfg.id()).toString()));
    }

    private List<Envelope> eventsOf(String id) {
        return taskEvents.stream()
                .filter(e -> e.event() instanceof TaskEvent t && t.containerId().equals(id))
                .toList();
    }
}
