package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.task.RunResult;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskRuntime;
import dev.berth.runtime.testing.BusyboxRootfs;
import dev.berth.runtime.testing.ChildRuntime;
import dev.berth.runtime.testing.RuncSpec;
import dev.berth.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A spare shim launched ahead of need ({@link TaskRuntimes.Builder#spareShim}): real shim, real runc. */
class SpareShimIT {
    private static final Duration AWAIT = Duration.ofSeconds(30);

    @TempDir
    static Path sharedDir;
    static Path rootfs;

    @TempDir
    Path state;

    /** Unique per test, so this test's shims are told apart from everyone else's by their argv. */
    String ns;
    TaskRuntime runtime;
    final List<String> ids = new ArrayList<>();
    final List<ChildJvm> children = new ArrayList<>();

    @BeforeAll
    static void buildRootfs() throws Exception {
        rootfs = BusyboxRootfs.populate(Files.createDirectories(sharedDir.resolve("rootfs")));
    }

    @BeforeEach
    void setUp() {
        ns = "spare-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @AfterEach
    void noLeftovers() throws Exception {
        children.forEach(ChildJvm::close);
        try {
            if (runtime == null) {
                runtime = open();
            }
            for (Task t : runtime.tasks()) {
                t.delete(true);
            }
        } finally {
            runtime.close();
        }
        for (String id : ids) {
            Leftovers.assertNone(state, ns, id);
        }
        assertThat(shimsOf(ns)).as("shim processes of namespace %s", ns).isEmpty();
        Path homes = state.resolve("shims").resolve(ns);
        if (Files.exists(homes)) {
            try (Stream<Path> left = Files.list(homes)) {
                assertThat(left).as("spare shim directories").isEmpty();
            }
        }
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(state.toString());
    }

    TaskRuntime open() {
        return TaskRuntimes.builder().stateDir(state).spareShim(true).build();
    }

    String newId() {
        String id = "p-" + UUID.randomUUID().toString().substring(0, 8);
        ids.add(id);
        return id;
    }

    RunResult echo(String word) throws InterruptedException {
        return runtime.run(TaskConfig.builder(newId()).namespace(ns)
                .spec(RuncSpec.of("echo", word).root(rootfs.toString()).toJson()).build());
    }

    Task sleeper() {
        Task t = runtime.create(TaskConfig.builder(newId()).namespace(ns)
                .spec(RuncSpec.of("sleep", "600").root(rootfs.toString()).toJson()).build());
        t.start();
        return t;
    }

    /** The serving shims of namespace {@code ns}, not a launcher's {@code start} action on its way out. */
    static List<Long> shimsOf(String ns) {
        return Leftovers.liveShims(" -namespace " + ns + " ").stream().filter(pid -> {
            try {
                return !new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")),
                        java.nio.charset.StandardCharsets.UTF_8).endsWith("\0start\0");
            } catch (java.io.IOException gone) {
                return false;
            }
        }).toList();
    }

    /** Runs a first task, deletes it and returns the spare launched then (once the task's own shim is gone). */
    long spareAfterAFirstTask() {
        Task first = sleeper();
        List<Long> own = shimsOf(ns);
        assertThat(own).as("no spare before the first task: it starts its own shim").hasSize(1);
        assertThat(first.delete(true).code()).isEqualTo(137);
        await("the first task's shim gone, a spare in its place").atMost(AWAIT)
                .until(() -> !Leftovers.isRunning(own.get(0)) && shimsOf(ns).size() == 1);
        return shimsOf(ns).get(0);
    }

    @Test
    void theNextTaskTakesTheSpareLaunchedWhenThePreviousOneLetGoOfItsShim() throws Exception {
        runtime = open();
        List<Long> spare = List.of(spareAfterAFirstTask());
        assertThat(runtime.tasks()).as("the spare is no task").isEmpty();

        Task second = sleeper();

        assertThat(shimsOf(ns)).as("the second task runs in the spare, no shim was started for it").isEqualTo(spare);
        assertThat(second.isAlive()).isTrue();
        Task third = sleeper();
        assertThat(shimsOf(ns)).as("no spare ready: the third task got a shim of its own").hasSize(2)
                .contains(spare.get(0));

        second.kill(9);
        assertThat(second.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(137));
        assertThat(second.delete().code()).isEqualTo(137);
        assertThat(third.isAlive()).as("tasks do not share the shim").isTrue();
        assertThat(echo("two")).as("a run in the spare").isEqualTo(new RunResult("two\n", "", 0));
        await("the used shim stops with its task, a new spare takes its place").atMost(AWAIT)
                .until(() -> !Leftovers.isRunning(spare.get(0)) && shimsOf(ns).size() == 2);
        third.delete(true);
        await().atMost(AWAIT).until(() -> shimsOf(ns).size() == 1);
    }

    @Test
    void closingTheRuntimeStopsTheSpare() throws Exception {
        runtime = open();
        long spare = spareAfterAFirstTask();

        runtime.close();

        assertThat(Leftovers.isRunning(spare)).as("the spare after close").isFalse();
        assertThat(shimsOf(ns)).isEmpty();
        runtime = null;
    }

    @Test
    void aRunningTaskKeepsItsShimWhenTheRuntimeCloses() throws Exception {
        runtime = open();
        long shim = spareAfterAFirstTask();
        Task running = sleeper();
        String id = running.id();
        assertThat(shimsOf(ns)).containsExactly(shim);

        runtime.close();

        assertThat(Leftovers.isRunning(shim)).as("the shim of a running task outlives the runtime").isTrue();
        runtime = open();
        Task again = runtime.get(ns, id).orElseThrow();
        assertThat(again.isAlive()).isTrue();
        assertThat(again.delete(true).code()).isEqualTo(137);
        await("the shim stops with its task").atMost(AWAIT).until(() -> !Leftovers.isRunning(shim));
    }

    @Test
    void aSpareDoesNotOutliveAKilledJvm() throws Exception {
        String id = "k-" + UUID.randomUUID().toString().substring(0, 8);
        ids.add(id);
        ChildJvm c = ChildJvm.start(ChildRuntime.class, List.of("-Dberth.test.spareShim=true"),
                state.toString(), rootfs.toString(), ns + "/" + id + ":done");
        children.add(c);
        c.awaitLine("READY", Duration.ofSeconds(60));
        // the spare (registered with the reaper before its process starts), the task's own shim gone
        await("the child's spare").atMost(AWAIT).until(() -> shimsOf(ns).size() == 1
                && Files.exists(state.resolve("tasks").resolve(ns).resolve(id)) == false);

        c.kill();

        await("the session reaper stops the spare").atMost(AWAIT).until(() -> shimsOf(ns).isEmpty());
    }
}
