package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.event.Envelope;
import dev.berth.api.event.TaskEvent;
import dev.berth.api.task.ExecConfig;
import dev.berth.api.task.ExecProcess;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.RunResult;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskRuntime;
import dev.berth.events.EventExchange;
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
import java.util.concurrent.CopyOnWriteArrayList;
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
    EventExchange events;
    final List<Envelope> exits = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void buildRootfs() throws Exception {
        rootfs = BusyboxRootfs.populate(Files.createDirectories(sharedDir.resolve("rootfs")));
    }

    @BeforeEach
    void setUp() {
        ns = "spare-" + UUID.randomUUID().toString().substring(0, 8);
        events = EventExchange.create();
        events.subscribe(exits::add, "topic==\"/tasks/exit\",namespace==" + ns);
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
            events.close();
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
        return TaskRuntimes.builder().stateDir(state).spareShim(true).events(events).build();
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
    void aSparePreparedBeforeTheFirstTaskIsTakenByIt() throws Exception {
        runtime = open();

        assertThat(TaskRuntimes.prepareSpareShim(runtime, ns)).as("spare shims are on").isTrue();
        await("the prepared spare running").atMost(AWAIT).until(() -> shimsOf(ns).size() == 1);
        List<Long> spare = shimsOf(ns);
        assertThat(TaskRuntimes.prepareSpareShim(runtime, ns)).isTrue();
        assertThat(runtime.tasks()).as("the spare is no task").isEmpty();

        Task first = sleeper();

        assertThat(shimsOf(ns)).as("a spare was ready: the second prepare launched none, the first task took it")
                .isEqualTo(spare);
        assertThat(first.isAlive()).isTrue();
        assertThat(first.delete(true).code()).isEqualTo(137);
        await("the used shim stops with its task").atMost(AWAIT).until(() -> !Leftovers.isRunning(spare.get(0)));
    }

    @Test
    void preparingWithSpareShimsOffLaunchesNothing() throws Exception {
        runtime = TaskRuntimes.builder().stateDir(state).spareShim(false).events(events).build();

        assertThat(TaskRuntimes.prepareSpareShim(runtime, ns)).isFalse();

        assertThat(echo("own")).isEqualTo(new RunResult("own\n", "", 0));
        await("no spare: the task's own shim stops with it, none takes its place").atMost(AWAIT)
                .until(() -> shimsOf(ns).isEmpty());
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

    @Test
    void aSessionScopedTaskTakesTheSpareAndBothGoWithAKilledJvm() throws Exception {
        String first = newId();
        String scoped = newId();
        ChildJvm c = ChildJvm.start(ChildRuntime.class, List.of("-Dberth.test.spareShim=true"),
                state.toString(), rootfs.toString(), ns + "/" + first + ":done", ns + "/" + scoped + ":long:scoped");
        children.add(c);
        c.awaitLine("READY", Duration.ofSeconds(90));
        Path bundle = state.resolve("tasks").resolve(ns).resolve(scoped);
        assertThat(bundle.resolve("berth-spare-shim")).as("the session-scoped task runs in the spare").exists();
        await("the child's shims settled: the scoped task's, no new spare yet").atMost(AWAIT)
                .until(() -> shimsOf(ns).size() == 1);
        long shim = shimsOf(ns).get(0);
        assertThat(shimHomes()).as("the spare's home, now the task's shim").hasSize(1);

        c.kill();

        await("the session reaper removes the task and stops its shim").atMost(AWAIT)
                .until(() -> !Leftovers.isRunning(shim) && !Files.exists(bundle) && shimHomes().isEmpty());
        runtime = open();
        assertThat(runtime.get(ns, scoped)).as("the scoped task after its JVM died").isEmpty();
    }

    @Test
    void aSessionScopedTaskOnTheSpareIsDeletedNormallyAndItsShimStops() throws Exception {
        runtime = open();
        long spare = spareAfterAFirstTask();
        Task scoped = runtime.create(TaskConfig.builder(newId()).namespace(ns).sessionScoped(true)
                .spec(RuncSpec.of("sh", "-c", "exit 4").root(rootfs.toString()).toJson()).build());
        assertThat(shimsOf(ns)).as("the scoped task took the spare").containsExactly(spare);
        scoped.start();
        assertThat(scoped.waitFor(AWAIT)).map(ExitStatus::code).contains(4);
        assertThat(scoped.delete().code()).isEqualTo(4);
        await("the used spare stops, the next one is launched").atMost(AWAIT)
                .until(() -> !Leftovers.isRunning(spare) && shimsOf(ns).size() == 1);
        assertThat(Files.list(state.resolve("reaper")).flatMap(s -> {
            try {
                return Files.list(s);
            } catch (java.io.IOException e) {
                return Stream.empty();
            }
        }).filter(f -> f.getFileName().toString().startsWith(ns + "@" + scoped.id())).toList())
                .as("the scoped task's reaper registration").isEmpty();
    }

    /** The home directories under {@code <state>/shims/<ns>} (spares, and shims spares became). */
    List<Path> shimHomes() throws java.io.IOException {
        Path homes = state.resolve("shims").resolve(ns);
        if (!Files.exists(homes)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(homes)) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".")).toList();
        }
    }

    /**
     * A child JVM that ran a first task (so a spare was launched), then started {@code id} (which took the
     * spare) and, with {@code spareLeft}, ran one more task, so an unused spare of its own is left too.
     */
    ChildJvm childWithATaskOnASpare(String id, boolean spareLeft) throws Exception {
        String first = newId();
        ids.add(id);
        List<String> args = new ArrayList<>(List.of(state.toString(), rootfs.toString(),
                ns + "/" + first + ":done", ns + "/" + id + ":long"));
        if (spareLeft) {
            args.add(ns + "/" + newId() + ":done");
        }
        ChildJvm c = ChildJvm.start(ChildRuntime.class, List.of("-Dberth.test.spareShim=true"),
                args.toArray(String[]::new));
        children.add(c);
        c.awaitLine("READY", Duration.ofSeconds(90));
        assertThat(state.resolve("tasks").resolve(ns).resolve(id).resolve("berth-spare-shim"))
                .as("the task runs in the spare launched after the first one").exists();
        await("the child's shims settled").atMost(AWAIT).until(() -> shimsOf(ns).size() == (spareLeft ? 2 : 1));
        return c;
    }

    /** Exec, kill, exit event and delete of a task found again here; its shim and home go with it. */
    void useAndDelete(Task found) throws Exception {
        assertThat(found.isAlive()).isTrue();
        ExecProcess exec = found.exec(ExecConfig.builder("x-" + UUID.randomUUID().toString().substring(0, 6))
                .args("sh", "-c", "exit 3").build());
        exec.start();
        assertThat(exec.waitFor(AWAIT)).map(ExitStatus::code).contains(3);
        exec.delete();
        found.kill(9);
        assertThat(found.waitFor(AWAIT)).map(ExitStatus::code).contains(137);
        await("the task's exit event").atMost(AWAIT).untilAsserted(() -> assertThat(exits)
                .anySatisfy(e -> assertThat(e.event()).isInstanceOfSatisfying(TaskEvent.Exit.class, x -> {
                    assertThat(x.containerId()).isEqualTo(found.id());
                    assertThat(x.id()).isEqualTo(found.id());
                    assertThat(x.exitStatus()).isEqualTo(137);
                })));
        assertThat(found.delete().code()).isEqualTo(137);
        assertThat(runtime.get(ns, found.id())).isEmpty();
    }

    @Test
    void aTaskOnASpareOutlivesItsKilledJvmAndTheNextRuntimeUsesAndDeletesIt() throws Exception {
        String id = "s-" + UUID.randomUUID().toString().substring(0, 8);
        ChildJvm c = childWithATaskOnASpare(id, false);
        long shim = shimsOf(ns).get(0);

        c.kill();

        runtime = open();
        assertThat(runtime.tasks()).extracting(Task::id).containsExactly(id);
        assertThat(Leftovers.isRunning(shim)).as("the task's shim, kept by the next runtime").isTrue();
        useAndDelete(runtime.get(ns, id).orElseThrow());
        await("the shim stops with its task").atMost(AWAIT).until(() -> !Leftovers.isRunning(shim));
        assertThat(shimHomes()).as("the shim's home, removed with it").isEmpty();
    }

    @Test
    void aTaskOnASpareLeftByAClosedRuntimeIsFoundByARuntimeOpenedBefore() throws Exception {
        runtime = open();
        long shim = spareAfterAFirstTask();
        Task running = sleeper();
        try (TaskRuntime other = open()) {
            runtime.close(); // the creator goes; the other runtime, opened while it claimed the shim, takes over
            runtime = other;

            assertThat(other.tasks()).extracting(Task::id).containsExactly(running.id());
            assertThat(Leftovers.isRunning(shim)).isTrue();
            useAndDelete(other.get(ns, running.id()).orElseThrow());
            await("the shim stops with its task").atMost(AWAIT).until(() -> !Leftovers.isRunning(shim));
            assertThat(shimHomes()).isEmpty();
        }
        runtime = null;
    }

    @Test
    void anotherProcesssSpareIsInvisibleButItsUsedSpareIsVisibleToAll() throws Exception {
        String id = "s-" + UUID.randomUUID().toString().substring(0, 8);
        ChildJvm c = childWithATaskOnASpare(id, true);
        List<Long> childShims = shimsOf(ns);
        runtime = open();

        assertThat(runtime.tasks()).as("the child's task, not its spare").extracting(Task::id).containsExactly(id);
        Task found = runtime.get(ns, id).orElseThrow();
        assertThat(found.isAlive()).isTrue();
        assertThat(shimsOf(ns)).as("the child's spare is left alone").containsExactlyInAnyOrderElementsOf(childShims);
        assertThat(shimHomes()).hasSize(2);

        c.kill(); // its session reaper stops its spare; the task lives on

        await("the child's spare reaped").atMost(AWAIT).until(() -> shimsOf(ns).size() == 1 && shimHomes().size() == 1);
        useAndDelete(found);
        await().atMost(AWAIT).until(() -> shimsOf(ns).isEmpty());
    }

    @Test
    void anUnusedSpareOfAProcessKilledWithItsReaperAndRegistrationIsStoppedByTheNextRuntime() throws Exception {
        String id = "s-" + UUID.randomUUID().toString().substring(0, 8);
        ChildJvm c = childWithATaskOnASpare(id, true);
        List<Long> watchers = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains(state.resolve("reaper").toString()))
                .map(ProcessHandle::pid).toList();
        assertThat(watchers).as("the child's session reaper").isNotEmpty();
        watchers.forEach(p -> ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly));
        c.kill();
        await().atMost(AWAIT).until(() -> watchers.stream().noneMatch(Leftovers::isRunning));
        assertThat(shimsOf(ns)).as("the spare outlived its reaper").hasSize(2);
        // its registration lost too: the shim's home is all that tells of it
        try (Stream<Path> files = Files.walk(state.resolve("reaper"))) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }

        runtime = open();

        assertThat(runtime.tasks()).extracting(Task::id).containsExactly(id);
        await("the dead process's spare stopped, its home removed").atMost(AWAIT)
                .until(() -> shimsOf(ns).size() == 1 && shimHomes().size() == 1);
        useAndDelete(runtime.get(ns, id).orElseThrow());
        await().atMost(AWAIT).until(() -> shimsOf(ns).isEmpty());
    }
}
