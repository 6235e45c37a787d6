package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskRuntime;
import dev.berth.api.task.TaskStatus;
import dev.berth.events.EventExchange;
import dev.berth.runtime.testing.BusyboxRootfs;
import dev.berth.runtime.testing.RuncSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tasks whose specs name one shim group (the runc shim's {@code io.containerd.runc.v2.group} or
 * {@code io.kubernetes.cri.sandbox-id}) run in the shim the first of them started, as a CRI pod's tasks do
 * in its sandbox's shim: real shim, real runc.
 */
class ShimGroupIT {
    private static final Duration AWAIT = Duration.ofSeconds(30);

    @TempDir
    static Path sharedDir;
    static Path rootfs;

    @TempDir
    Path state;

    String ns;
    String group;
    EventExchange events;
    TaskRuntime runtime;
    final List<String> ids = new java.util.concurrent.CopyOnWriteArrayList<>(); // tasks may start together

    @BeforeAll
    static void buildRootfs() throws Exception {
        rootfs = BusyboxRootfs.populate(Files.createDirectories(sharedDir.resolve("rootfs")));
    }

    @BeforeEach
    void setUp() {
        ns = "group-" + UUID.randomUUID().toString().substring(0, 8);
        group = "pod-" + UUID.randomUUID().toString().substring(0, 8);
        events = EventExchange.create();
    }

    @AfterEach
    void noLeftovers() throws Exception {
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
        await().atMost(AWAIT).untilAsserted(() ->
                assertThat(Leftovers.liveShims(" -namespace " + ns + " ")).as("shims of %s", ns).isEmpty());
        assertThat(Leftovers.shimSocket(state, ns, group)).as("the group's shim socket").doesNotExist();
    }

    TaskRuntime open() {
        return TaskRuntimes.builder().stateDir(state).events(events).build();
    }

    /** A task of the group, under {@code label}, whose id is {@code id}. */
    Task start(String id, String label, String... args) {
        ids.add(id);
        Task task = runtime.create(TaskConfig.builder(id).namespace(ns)
                .spec(RuncSpec.of(args).root(rootfs.toString()).annotation(label, group).toJson()).build());
        task.start();
        return task;
    }

    static long parent(int pid) {
        return ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(-1L);
    }

    @Test
    void theGroupRunsInTheFirstTasksShimWhichExitsWithTheLastTask() throws Exception {
        runtime = open();
        // the first task is the group's namesake, as a pod's sandbox is
        Task first = start(group, "io.kubernetes.cri.sandbox-id", "sleep", "600");
        Task second = start("c-" + UUID.randomUUID().toString().substring(0, 8), "io.kubernetes.cri.sandbox-id",
                "sh", "-c", "trap 'exit 3' TERM; while true; do sleep 1; done");
        Task third = start("c-" + UUID.randomUUID().toString().substring(0, 8), "io.containerd.runc.v2.group",
                "sh", "-c", "trap 'exit 4' TERM; while true; do sleep 1; done");

        List<Long> shims = Leftovers.liveShims(" -namespace " + ns + " ");
        assertThat(shims).as("one shim for the group").hasSize(1);
        assertThat(Leftovers.shimProcesses(group)).isEqualTo(shims);
        assertThat(List.of(parent(first.pid()), parent(second.pid()), parent(third.pid())))
                .as("the shim is every task's parent").containsOnly(shims.get(0));

        // the group's namesake goes first: its shim goes on serving the others
        first.kill(9);
        assertThat(first.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(137));
        assertThat(first.delete().code()).isEqualTo(137);
        assertThat(state.resolve("tasks").resolve(ns).resolve(first.id())).as("its bundle").doesNotExist();
        assertThat(Leftovers.liveShims(" -namespace " + ns + " ")).isEqualTo(shims);
        assertThat(Leftovers.shimSocket(state, ns, group)).exists();
        assertThat(second.state().status()).isEqualTo(TaskStatus.RUNNING);

        third.kill(15);
        assertThat(third.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(4));
        assertThat(third.delete().code()).isEqualTo(4);
        assertThat(Leftovers.liveShims(" -namespace " + ns + " ")).isEqualTo(shims);

        second.kill(15);
        assertThat(second.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(3));
        assertThat(second.delete().code()).isEqualTo(3);
        assertThat(Leftovers.liveShims(" -namespace " + ns + " ")).as("the last task takes the shim with it")
                .isEmpty();
        assertThat(Leftovers.shimSocket(state, ns, group)).doesNotExist();
    }

    /**
     * A runtime whose shim binary is a wrapper in front of the real one that logs each of its invocations
     * to the returned file (the shim's start, and its daemon, which `start` re-executes from the real
     * binary's path, so only `start` passes through here).
     */
    Path openWithLoggedShimStarts() throws Exception {
        Path dir = Files.createDirectories(state.resolve("wrapped-shim"));
        Path calls = dir.resolve("calls.log");
        Path real = Path.of("/usr/bin/containerd-shim-runc-v2");
        Path wrapper = dir.resolve("containerd-shim-runc-v2");
        Files.writeString(wrapper, "#!/bin/sh\necho \"$*\" >> " + calls + "\nexec " + real + " \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        runtime = TaskRuntimes.builder().stateDir(state).events(events).shimSearchPath(List.of(dir)).build();
        return calls;
    }

    static List<String> starts(Path calls) throws Exception {
        return Files.readAllLines(calls).stream().filter(l -> l.endsWith(" start")).toList();
    }

    @Test
    void aTaskJoiningAGroupWhoseShimThisRuntimeKnowsRunsNoShimStart() throws Exception {
        Path calls = openWithLoggedShimStarts();
        Task first = start(group, "io.containerd.runc.v2.group", "sleep", "600");
        Task second = start("c-" + UUID.randomUUID().toString().substring(0, 8), "io.containerd.runc.v2.group",
                "sleep", "600");
        assertThat(starts(calls)).as("shim starts for the group's two tasks").hasSize(1)
                .allSatisfy(l -> assertThat(l).contains("-id " + group + " "));
        assertThat(parent(second.pid())).as("the second task's shim").isEqualTo(parent(first.pid()));
        assertThat(state.resolve("tasks").resolve(ns).resolve(second.id()).resolve("address"))
                .as("the joined task's address file, as the shim's start writes it")
                .content().startsWith("unix://" + Leftovers.shimSocket(state, ns, group));

        for (Task t : List.of(first, second)) {
            t.kill(9);
            t.waitFor(AWAIT);
            t.delete();
        }
        assertThat(Leftovers.shimProcesses(group)).as("the last task took the shim with it").isEmpty();
    }

    @Test
    void tasksOfANewGroupCreatedTogetherStartOneShimAndAllRunInIt() throws Exception {
        // each would otherwise run the shim's start; the runc shim's start removes a group socket it cannot
        // connect to yet (another start's, between its bind and listen), and that start then fails
        Path calls = openWithLoggedShimStarts();
        int n = 6;
        java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(n);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(n);
        List<java.util.concurrent.Future<Task>> created = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                String id = "c-" + i + "-" + UUID.randomUUID().toString().substring(0, 8);
                created.add(pool.submit(() -> {
                    together.await();
                    return start(id, "io.containerd.runc.v2.group", "sleep", "600");
                }));
            }
            List<Task> tasks = new ArrayList<>();
            for (java.util.concurrent.Future<Task> f : created) {
                tasks.add(f.get(2, java.util.concurrent.TimeUnit.MINUTES));
            }
            assertThat(starts(calls)).as("shim starts for %d tasks of a new group created at once", n).hasSize(1);
            List<Long> shims = Leftovers.liveShims(" -namespace " + ns + " ");
            assertThat(shims).as("the group's shim").hasSize(1);
            assertThat(tasks).allSatisfy(t -> assertThat(parent(t.pid())).as("%s's parent", t.id())
                    .isEqualTo(shims.get(0)));
            assertThat(state.resolve("locks").resolve(".groups").resolve(ns).resolve(group + ".lock"))
                    .as("the lock of the group's shim start, once it runs").doesNotExist();
            for (Task t : tasks) {
                t.kill(9);
                t.waitFor(AWAIT);
                t.delete();
            }
            await().atMost(AWAIT).untilAsserted(() -> assertThat(Leftovers.liveShims(" -namespace " + ns + " "))
                    .as("the last task took the shim with it").isEmpty());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aLaterRuntimeFindsTheGroupsTasksInTheirShimAndItsLastDeleteStopsIt() throws Exception {
        runtime = open();
        Task sandbox = start(group, "io.kubernetes.cri.sandbox-id", "sleep", "600");
        String containerId = "c-" + UUID.randomUUID().toString().substring(0, 8);
        start(containerId, "io.kubernetes.cri.sandbox-id", "sh", "-c", "trap 'exit 3' TERM; while true; do sleep 1; done");
        List<Long> shims = Leftovers.shimProcesses(group);
        assertThat(shims).hasSize(1);
        int sandboxPid = sandbox.pid();
        runtime.close();
        assertThat(Leftovers.shimProcesses(group)).as("the shim outlives its runtime").isEqualTo(shims);

        runtime = open();
        Task container = runtime.get(ns, containerId).orElseThrow();
        assertThat(container.state().status()).isEqualTo(TaskStatus.RUNNING);
        assertThat(parent(container.pid())).isEqualTo(shims.get(0));
        // a task added to the group now still joins the same shim
        Task late = start("c-" + UUID.randomUUID().toString().substring(0, 8), "io.kubernetes.cri.sandbox-id",
                "sleep", "600");
        assertThat(parent(late.pid())).isEqualTo(shims.get(0));
        late.kill(9);
        late.waitFor(AWAIT);
        late.delete();

        container.kill(15);
        assertThat(container.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(3));
        assertThat(container.delete().code()).isEqualTo(3);
        assertThat(Leftovers.shimProcesses(group)).as("the sandbox is still in it").isEqualTo(shims);

        Task found = runtime.get(ns, group).orElseThrow();
        assertThat(found.pid()).isEqualTo(sandboxPid);
        found.kill(9);
        found.waitFor(AWAIT);
        found.delete();
        assertThat(Leftovers.shimProcesses(group)).as("the last task took the shim with it").isEmpty();
    }
}
