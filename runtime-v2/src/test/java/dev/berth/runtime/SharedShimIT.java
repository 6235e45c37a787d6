package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import dev.berth.api.task.RunResult;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskRuntime;
import dev.berth.api.task.TaskStatus;

import dev.berth.events.EventExchange;
import dev.berth.runtime.testing.BusyboxRootfs;
import dev.berth.runtime.testing.ChildRuntime;
import dev.berth.runtime.testing.RuncSpec;
import dev.berth.testing.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tasks sharing one shim process ({@link TaskRuntimes.Builder#sharedShims}): real shim, real runc. */
class SharedShimIT {
    private static final Duration AWAIT = Duration.ofSeconds(30);

    @TempDir
    static Path sharedDir;
    static Path rootfs;

    @TempDir
    Path state;

    /** Unique per test, so the shims of this test are told apart from everyone else's by their argv. */
    String ns;
    EventExchange events;
    TaskRuntime runtime;
    final List<String> ids = new ArrayList<>();
    final List<ChildJvm> children = new ArrayList<>();
    final java.util.Set<String> shimIds = new java.util.TreeSet<>();

    @BeforeAll
    static void buildRootfs() throws Exception {
        rootfs = BusyboxRootfs.populate(Files.createDirectories(sharedDir.resolve("rootfs")));
    }

    @BeforeEach
    void setUp() {
        ns = "shared-" + UUID.randomUUID().toString().substring(0, 8);
        events = EventExchange.create();
    }

    @AfterEach
    void noLeftovers() throws Exception {
        children.forEach(ChildJvm::close);
        try {
            if (runtime == null) {
                runtime = open(Duration.ZERO);
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
        assertThat(sockets()).as("shim sockets of this test").isEmpty();
        Path homes = state.resolve("shims").resolve(ns);
        if (Files.exists(homes)) {
            try (Stream<Path> left = Files.list(homes)) {
                assertThat(left).as("shared shim directories").isEmpty();
            }
        }
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(state.toString());
    }

    TaskRuntime open(Duration idle) {
        return TaskRuntimes.builder().stateDir(state).events(events).sharedShims(true).sharedShimIdleTimeout(idle)
                .build();
    }

    Task start(String... args) {
        String id = "s-" + UUID.randomUUID().toString().substring(0, 8);
        ids.add(id);
        Task task = runtime.create(TaskConfig.builder(id).namespace(ns)
                .spec(RuncSpec.of(args).root(rootfs.toString()).toJson()).build());
        task.start();
        return task;
    }

    /** Live (not zombie) containerd shims started with {@code -namespace ns}. */
    static List<Long> shimsOf(String ns) {
        return Leftovers.liveShims(" -namespace " + ns + " ");
    }

    /**
     * The sockets of this test's shims that exist: those of its task ids and of every shared shim id seen
     * so far (a shared shim's socket is named after its own id, from its home directory).
     */
    List<Path> sockets() throws IOException {
        Path homes = state.resolve("shims").resolve(ns);
        if (Files.exists(homes)) {
            try (Stream<Path> dirs = Files.list(homes)) {
                dirs.forEach(d -> shimIds.add(d.getFileName().toString()));
            }
        }
        List<Path> found = new ArrayList<>();
        for (String id : ids) {
            found.add(Leftovers.shimSocket(state, ns, id));
        }
        for (String id : shimIds) {
            found.add(Leftovers.shimSocket(state, ns, id));
        }
        return found.stream().filter(Files::exists).toList();
    }

    /** The shim socket each task's bundle names. */
    Map<String, String> addresses() throws IOException {
        Map<String, String> out = new TreeMap<>();
        for (String id : ids) {
            Path address = state.resolve("tasks").resolve(ns).resolve(id).resolve("address");
            if (Files.exists(address)) {
                out.put(id, Files.readString(address).trim());
            }
        }
        return out;
    }

    @Test
    void tasksShareOneShimAndDeletingOneLeavesTheOthersRunning() throws Exception {
        runtime = open(Duration.ZERO);
        Task first = start("sleep", "600");
        Task second = start("sh", "-c", "trap 'exit 3' TERM; while true; do sleep 1; done");
        Task third = start("sh", "-c", "trap 'exit 4' TERM; while true; do sleep 1; done");

        List<Long> shims = shimsOf(ns);
        assertThat(shims).as("one shim for three tasks").hasSize(1);
        assertThat(addresses().values()).hasSize(3).containsOnly(addresses().get(first.id()));
        assertThat(sockets()).as("one socket, the shared shim's").hasSize(1);

        first.kill(9);
        assertThat(first.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(137));
        assertThat(first.delete().code()).isEqualTo(137);

        assertThat(shimsOf(ns)).as("the shim still serves the others").isEqualTo(shims);
        assertThat(second.isAlive()).isTrue();
        assertThat(third.state().status()).isEqualTo(TaskStatus.RUNNING);
        Leftovers.assertNone(state, ns, first.id());

        third.kill(15);
        assertThat(third.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(4));
        assertThat(third.delete().code()).isEqualTo(4);
        second.kill(15);
        assertThat(second.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(3));
        assertThat(shimsOf(ns)).isEqualTo(shims);

        assertThat(second.delete().code()).isEqualTo(3);
        assertThat(shimsOf(ns)).as("no idle period: the last task takes the shim with it").isEmpty();
        assertThat(sockets()).isEmpty();
    }

    @Test
    void anIdleShimServesTheNextTaskAndStopsWhenTheRuntimeCloses() throws Exception {
        runtime = open(Duration.ofMinutes(5));
        RunResult first = runtime.run(TaskConfig.builder(newId()).namespace(ns)
                .spec(RuncSpec.of("echo", "one").root(rootfs.toString()).toJson()).build());
        List<Long> warm = shimsOf(ns);
        assertThat(warm).as("kept warm after its last task").hasSize(1);
        assertThat(sockets()).hasSize(1);

        RunResult second = runtime.run(TaskConfig.builder(newId()).namespace(ns)
                .spec(RuncSpec.of("echo", "two").root(rootfs.toString()).toJson()).build());

        assertThat(first).isEqualTo(new RunResult("one\n", "", 0));
        assertThat(second).isEqualTo(new RunResult("two\n", "", 0));
        assertThat(shimsOf(ns)).as("the same shim served both").isEqualTo(warm);

        runtime.close();

        assertThat(Leftovers.isRunning(warm.get(0))).as("idle shim after close").isFalse();
        assertThat(sockets()).isEmpty();
    }

    String newId() {
        String id = "s-" + UUID.randomUUID().toString().substring(0, 8);
        ids.add(id);
        return id;
    }

    @Test
    void sessionScopedTasksKeepAShimOfTheirOwn() throws Exception {
        runtime = open(Duration.ZERO);
        Task shared = start("sleep", "600");
        String id = newId();
        Task scoped = runtime.create(TaskConfig.builder(id).namespace(ns).sessionScoped(true)
                .spec(RuncSpec.of("sleep", "600").root(rootfs.toString()).toJson()).build());
        scoped.start();

        assertThat(shimsOf(ns)).hasSize(2);
        assertThat(Leftovers.shimProcesses(id)).as("the scoped task's own shim").hasSize(1);

        shared.delete(true);
        scoped.delete(true);
    }

    @Test
    void killingASharedShimEndsEveryTaskItServes() throws Exception {
        runtime = open(Duration.ofMinutes(5));
        Task one = start("sleep", "600");
        Task two = start("sleep", "600");
        List<Long> shims = shimsOf(ns);
        assertThat(shims).hasSize(1);
        assertThat(sockets()).hasSize(1);

        ProcessHandle.of(shims.get(0)).orElseThrow().destroyForcibly();

        assertThat(one.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(137));
        assertThat(two.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(137));
        await("the containers die with their shim's cleanup").atMost(AWAIT)
                .until(() -> !Leftovers.isRunning(one.pid()) && !Leftovers.isRunning(two.pid()));
        assertThat(one.delete().code()).isEqualTo(137);
        assertThat(two.delete().code()).isEqualTo(137);

        // A dead shim is never handed out again.
        RunResult next = runtime.run(TaskConfig.builder(newId()).namespace(ns)
                .spec(RuncSpec.of("echo", "again").root(rootfs.toString()).toJson()).build());
        assertThat(next.stdout()).isEqualTo("again\n");
        assertThat(shimsOf(ns)).hasSize(1).doesNotContain(shims.get(0));
    }

    ChildJvm child(String... tasks) throws IOException {
        List<String> args = new ArrayList<>(List.of(state.toString(), rootfs.toString()));
        for (String t : tasks) {
            ids.add(t.split(":")[0]);
            args.add(ns + "/" + t);
        }
        ChildJvm c = ChildJvm.start(ChildRuntime.class, List.of("-Dberth.test.sharedShims=true"),
                args.toArray(String[]::new));
        children.add(c);
        return c;
    }

    @Test
    void aRuntimeAfterAKilledJvmFindsTheTasksOfASharedShim() throws Exception {
        String running = "k-" + UUID.randomUUID().toString().substring(0, 8);
        String exiting = "k-" + UUID.randomUUID().toString().substring(0, 8);
        ChildJvm c = child(running + ":long", exiting + ":exit5");
        c.awaitLine("READY", Duration.ofSeconds(60));
        List<Long> shims = shimsOf(ns);
        assertThat(shims).hasSize(1);
        assertThat(sockets()).hasSize(1);

        c.kill();
        runtime = open(Duration.ofMinutes(5));

        assertThat(runtime.tasks()).extracting(Task::id).containsExactlyInAnyOrder(running, exiting);
        Task alive = runtime.get(ns, running).orElseThrow();
        Task exits = runtime.get(ns, exiting).orElseThrow();
        assertThat(alive.isAlive()).isTrue();
        assertThat(exits.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(5));
        assertThat(exits.delete().code()).isEqualTo(5);
        assertThat(shimsOf(ns)).as("still serving the other task").isEqualTo(shims);

        alive.kill(9);
        assertThat(alive.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(137));
        assertThat(alive.delete().code()).isEqualTo(137);
        assertThat(shimsOf(ns)).as("a shim found again stops with its last task").isEmpty();
    }

    @Test
    void anIdleShimDoesNotOutliveAKilledJvm() throws Exception {
        String id = "k-" + UUID.randomUUID().toString().substring(0, 8);
        ChildJvm c = child(id + ":done");
        c.awaitLine("READY", Duration.ofSeconds(60));
        assertThat(shimsOf(ns)).as("idle, kept warm").hasSize(1);
        assertThat(sockets()).hasSize(1);

        c.kill();

        await("the session reaper stops the idle shim").atMost(AWAIT).until(() -> shimsOf(ns).isEmpty());
        await().atMost(AWAIT).until(() -> sockets().isEmpty());
    }
}
