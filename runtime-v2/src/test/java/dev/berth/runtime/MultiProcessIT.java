package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.BerthException;
import dev.berth.api.NotFoundException;
import dev.berth.api.event.Envelope;
import dev.berth.api.internal.FaultPoints;
import dev.berth.api.event.TaskEvent;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskRuntime;
import dev.berth.events.EventExchange;
import dev.berth.runtime.internal.ShimRuntime;
import dev.berth.runtime.testing.BusyboxRootfs;
import dev.berth.runtime.testing.ChildRuntime;
import dev.berth.runtime.testing.RuncSpec;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Several runtimes (other JVMs and this one) on one state directory at once: each creates, signals and
 * deletes any task, the events socket passes to a live runtime when its owner dies, and races on one task
 * end with one winner and a typed error for the other.
 */
class MultiProcessIT {
    private static final String NS = "berth-multi-" + UUID.randomUUID().toString().substring(0, 6);
    private static final Duration AWAIT = Duration.ofSeconds(30);

    @TempDir
    static Path shared;
    static Path rootfs;

    @TempDir
    Path state;

    final List<TaskRuntime> runtimes = new CopyOnWriteArrayList<>();
    final List<Process> children = new ArrayList<>();
    final List<String> ids = new ArrayList<>();

    @BeforeAll
    static void buildRootfs() throws Exception {
        rootfs = BusyboxRootfs.populate(Files.createDirectories(shared.resolve("rootfs")));
    }

    @AfterEach
    void noLeftovers() throws Exception {
        for (Process child : children) {
            child.destroyForcibly().waitFor();
        }
        try (TaskRuntime cleaner = open(null)) {
            for (Task t : cleaner.tasks()) {
                t.delete(true);
            }
            for (String id : ids) {
                Leftovers.assertNone(state, NS, id);
            }
        } finally {
            runtimes.forEach(TaskRuntime::close);
        }
    }

    TaskRuntime open(EventExchange events) {
        TaskRuntimes.Builder b = TaskRuntimes.builder().stateDir(state);
        if (events != null) {
            b.events(events);
        }
        TaskRuntime r = b.build();
        runtimes.add(r);
        return r;
    }

    String newId() {
        String id = "m-" + UUID.randomUUID().toString().substring(0, 8);
        ids.add(id);
        return id;
    }

    TaskConfig sleeper(String id) {
        return TaskConfig.builder(id).namespace(NS).spec(RuncSpec.of("sleep", "600").root(rootfs.toString()).toJson())
                .build();
    }

    /** Starts a {@link ChildRuntime} with {@code task}; returns the task's pid once the child is ready. */
    int startChild(String task) throws Exception {
        return startChildWith(task).values().iterator().next();
    }

    /** Starts a {@link ChildRuntime} with {@code tasks}; returns their pids by id once the child is ready. */
    Map<String, Integer> startChildWith(String... tasks) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                ChildRuntime.class.getName(), state.toString(), rootfs.toString()));
        command.addAll(List.of(tasks));
        Process child = new ProcessBuilder(command)
                .redirectError(state.resolveSibling(state.getFileName() + "-child" + children.size() + ".log").toFile())
                .start();
        children.add(child);
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        Map<String, Integer> pids = new LinkedHashMap<>();
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith("TASK ")) {
                String[] parts = line.split(" ");
                pids.put(parts[1], Integer.parseInt(parts[2]));
            } else if (line.equals("READY")) {
                return pids;
            }
        }
        throw new IllegalStateException("child JVM ended before READY; see its log next to " + state);
    }

    @Test
    void aTaskAnotherLiveProcessCreatedIsKilledAndDeletedHere() throws Exception {
        String id = newId();
        int pid = startChild(NS + "/" + id + ":long");
        TaskRuntime here = open(null);

        Task task = here.get(NS, id).orElseThrow();
        assertThat(task.pid()).isEqualTo(pid);
        assertThat(here.tasks()).extracting(Task::id).contains(id);
        task.kill(9, false);
        assertThat(task.waitFor(AWAIT)).map(ExitStatus::code).contains(137);
        assertThat(task.delete().code()).isEqualTo(137);
        assertThat(here.get(NS, id)).isEmpty();
        assertThat(children.get(0).isAlive()).as("the creator lives on").isTrue();
        Leftovers.assertNone(state, NS, id);
    }

    @Test
    void aTaskCreatedElsewhereAfterThisRuntimeOpenedIsFound() throws Exception {
        TaskRuntime here = open(null);
        String id = newId();
        startChild(NS + "/" + id + ":long");
        assertThat(here.get(NS, id)).isPresent();
        here.get(NS, id).orElseThrow().delete(true);
        Leftovers.assertNone(state, NS, id);
    }

    @Test
    void theExitOfATaskWhoseCreatorWasKilledReachesALiveRuntime() throws Exception {
        String id = newId();
        startChild(NS + "/" + id + ":exit5"); // the first runtime serves the events socket
        try (EventExchange events = EventExchange.create()) {
            List<Envelope> exits = new CopyOnWriteArrayList<>();
            events.subscribe(exits::add, "topic==\"/tasks/exit\",namespace==" + NS);
            ShimRuntime here = (ShimRuntime) open(events);
            assertThat(here.servesEventsSocket()).as("the child serves it").isFalse();

            children.get(0).destroyForcibly().waitFor(); // SIGKILL, within the task's 3 s
            await().atMost(AWAIT).until(here::servesEventsSocket);
            await().atMost(AWAIT).until(() -> !exits.isEmpty());
            assertThat(exits).singleElement().satisfies(e -> {
                TaskEvent.Exit exit = (TaskEvent.Exit) e.event();
                assertThat(exit.containerId()).isEqualTo(id);
                assertThat(exit.exitStatus()).isEqualTo(5);
            });
            Task task = here.get(NS, id).orElseThrow();
            assertThat(task.waitFor(AWAIT)).map(ExitStatus::code).contains(5);
            assertThat(task.delete().code()).isEqualTo(5);
        }
    }

    @Test
    void anExitWhileNoRuntimeWasAliveIsPublishedOnceWhenTwoRuntimesOpenAtOnce() throws Exception {
        exitWhileNoRuntimeIsAliveIsPublishedOnce(Duration.ZERO);
    }

    /**
     * As above, once the shim's publish retries (containerd's shim requeues a failed publish 5 times, waiting
     * 1, 2, 3, 4, 5 s) have run out: only the reconnecting runtime can still tell anyone.
     */
    @Test
    void anExitWhileNoRuntimeWasAliveIsPublishedEvenAfterTheShimGaveUpPublishingIt() throws Exception {
        exitWhileNoRuntimeIsAliveIsPublishedOnce(Duration.ofSeconds(17));
    }

    private void exitWhileNoRuntimeIsAliveIsPublishedOnce(Duration quietAfterExit) throws Exception {
        String id = newId();
        int pid = startChild(NS + "/" + id + ":exit5");
        children.get(0).destroyForcibly().waitFor(); // SIGKILL: no runtime is alive when the task exits
        await().atMost(AWAIT).until(() -> !Files.exists(Path.of("/proc/" + pid)));
        if (!quietAfterExit.isZero()) {
            // nothing observable marks the end of the shim's retries: wait them out
            await().pollDelay(quietAfterExit).atMost(quietAfterExit.plusSeconds(5)).until(() -> true);
        }
        List<Envelope> exits = new CopyOnWriteArrayList<>();
        List<EventExchange> exchanges = List.of(EventExchange.create(), EventExchange.create());
        try {
            for (EventExchange e : exchanges) {
                e.subscribe(exits::add, "topic==\"/tasks/exit\",namespace==" + NS);
            }
            List<Object> opened = race(() -> open(exchanges.get(0)), () -> open(exchanges.get(1)));
            assertThat(opened).allSatisfy(o -> assertThat(o).isInstanceOf(TaskRuntime.class));
            for (Object o : opened) {
                Task task = ((TaskRuntime) o).get(NS, id).orElseThrow();
                assertThat(task.waitFor(AWAIT)).map(ExitStatus::code).contains(5);
            }
            await().atMost(AWAIT).until(() -> !exits.isEmpty());
            assertThat(exits).singleElement().satisfies(e -> {
                TaskEvent.Exit exit = (TaskEvent.Exit) e.event();
                assertThat(exit.containerId()).isEqualTo(id);
                assertThat(exit.exitStatus()).isEqualTo(5);
                assertThat(exit.pid()).isEqualTo(pid);
            });
            // a late retry of the shim's own publish, or a third opener, does not announce it again
            TaskRuntime third = open(exchanges.get(0));
            assertThat(third.get(NS, id)).isPresent();
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> exits.size() == 1);
            assertThat(((TaskRuntime) opened.get(0)).get(NS, id).orElseThrow().delete().code()).isEqualTo(5);
        } finally {
            exchanges.forEach(EventExchange::close);
        }
    }

    @Test
    void theReaperOfAKilledProcessTakesOnlyItsOwnSessionScopedTasks() throws Exception {
        String aScoped = newId();
        String aKept = newId();
        String bScoped = newId();
        String hereScoped = newId();
        Map<String, Integer> a = startChildWith(NS + "/" + aScoped + ":long:scoped", NS + "/" + aKept + ":long");
        Map<String, Integer> b = startChildWith(NS + "/" + bScoped + ":long:scoped");
        TaskRuntime here = open(null);
        Task mine = here.create(TaskConfig.builder(hereScoped).namespace(NS).sessionScoped(true)
                .spec(RuncSpec.of("sleep", "600").root(rootfs.toString()).toJson()).build());
        mine.start();

        children.get(0).destroyForcibly().waitFor(); // SIGKILL the first owner only

        await().atMost(AWAIT).until(() -> !Leftovers.isRunning(a.get(aScoped)));
        await().atMost(AWAIT).untilAsserted(() -> Leftovers.assertNone(state, NS, aScoped));
        assertThat(Leftovers.isRunning(a.get(aKept))).as("a task without the option survives its creator").isTrue();
        assertThat(Leftovers.isRunning(b.get(bScoped))).as("the other owner's scoped task").isTrue();
        assertThat(Leftovers.isRunning(mine.pid())).as("this process's scoped task").isTrue();
        // a runtime opened now reaps orphaned sessions: the live owners' sessions are not orphans
        TaskRuntime next = open(null);
        assertThat(next.tasks()).extracting(Task::id).contains(aKept, bScoped, hereScoped).doesNotContain(aScoped);
        assertThat(Leftovers.isRunning(b.get(bScoped))).isTrue();
        assertThat(children.get(1).isAlive()).isTrue();

        children.get(1).destroyForcibly().waitFor();
        await().atMost(AWAIT).until(() -> !Leftovers.isRunning(b.get(bScoped)));
        await().atMost(AWAIT).untilAsserted(() -> Leftovers.assertNone(state, NS, bScoped));
        assertThat(Leftovers.isRunning(mine.pid())).isTrue();
        assertThat(mine.state().status()).isEqualTo(dev.berth.api.task.TaskStatus.RUNNING);
    }

    @Test
    void twoRuntimesDeletingOneTaskAtOnceEndWithOneWinnerAndANotFound() throws Exception {
        TaskRuntime a = open(null);
        TaskRuntime b = open(null);
        String id = newId();
        Task ta = a.create(sleeper(id));
        ta.start();
        Task tb = b.get(NS, id).orElseThrow();
        ta.kill(9, false);
        ta.waitFor();
        tb.waitFor();
        List<Object> outcomes = race(() -> ta.delete().code(), () -> tb.delete().code());
        assertThat(outcomes).filteredOn(o -> o instanceof Integer).containsExactly(137);
        assertThat(outcomes).filteredOn(o -> o instanceof NotFoundException).hasSize(1);
        Leftovers.assertNone(state, NS, id);
    }

    @Test
    void twoRuntimesCreatingOneTaskAtOnceEndWithOneTaskAndAnAlreadyExists() throws Exception {
        TaskRuntime a = open(null);
        TaskRuntime b = open(null);
        String id = newId();
        List<Object> outcomes = race(() -> a.create(sleeper(id)), () -> b.create(sleeper(id)));
        assertThat(outcomes).filteredOn(o -> o instanceof Task).hasSize(1);
        assertThat(outcomes).filteredOn(o -> o instanceof AlreadyExistsException).hasSize(1);
        Task winner = (Task) outcomes.stream().filter(o -> o instanceof Task).findFirst().orElseThrow();
        winner.start();
        List<Object> starts = race(() -> { winner.start(); return "started"; },
                () -> { b.get(NS, id).orElseThrow().start(); return "started"; });
        // the task was already started: the shim refuses both, with a typed error
        assertThat(starts).allSatisfy(o -> assertThat(o).isInstanceOf(BerthException.class));
        assertThat(winner.delete(true).code()).isEqualTo(137);
        Leftovers.assertNone(state, NS, id);
    }

    @Test
    void processesKilledInTheMiddleOfCreateStartOrDeleteLeaveAStateTheOthersConvergeOn() throws Exception {
        TaskRuntime live = open(null); // already running while the others die
        List<String> churned = new ArrayList<>();
        int round = 0;
        for (String killAt : List.of("CREATE", "START", "DELETE", "CREATE")) {
            String prefix = newId() + "c" + round++;
            ids.remove(prefix);
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    ChildRuntime.class.getName(), state.toString(), rootfs.toString(), NS + "/" + prefix + ":churn")
                    .redirectError(state.resolveSibling(state.getFileName() + "-churn.log").toFile())
                    .start();
            children.add(child);
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
            String line;
            int seen = 0;
            String last = null;
            while ((line = out.readLine()) != null) {
                if (line.startsWith(killAt + " ")) {
                    last = line.substring(killAt.length() + 1);
                    if (++seen == 2) { // the second task: the first went through every step
                        child.destroyForcibly().waitFor();
                        break;
                    }
                }
            }
            assertThat(last).as("the child got to " + killAt).isNotNull();
            int upTo = Integer.parseInt(last.substring(last.lastIndexOf('-') + 1));
            for (int n = 0; n <= upTo + 1; n++) {
                churned.add(prefix + "-" + n);
            }
        }
        // the live runtime and the next opener both see a consistent state: whole tasks or none
        for (TaskRuntime r : List.of(live, open(null))) {
            for (Task t : r.tasks()) {
                if (t.namespace().equals(NS)) {
                    try {
                        t.delete(true);
                    } catch (NotFoundException deletedByTheOther) {
                        // the first runtime of the two deleted it
                    }
                }
            }
        }
        for (String id : churned) {
            Leftovers.assertNone(state, NS, id);
        }
    }

    /**
     * A process halted (as by SIGKILL: no finally, no shutdown hook) at each named point of create, start and
     * delete leaves a state that a runtime already open and the next opener converge on: the task is whole or
     * gone, no lock is stuck (the same id is created, started and deleted again), nothing is left behind.
     */
    @ParameterizedTest
    @ValueSource(strings = {"task.create.afterBundle", "task.create.afterShimStart", "task.create.afterCreate",
            "task.start.beforeStart", "task.start.afterStart", "task.delete.afterShimDelete",
            "task.delete.afterRetire"})
    void aProcessHaltedAtAFaultPointLeavesAStateTheNextOpenerConvergesOn(String point) throws Exception {
        TaskRuntime live = open(null);
        String prefix = newId();
        ids.remove(prefix);
        String id = prefix + "-0"; // the churn's first task: every point is reached in its first round
        ids.add(id);
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-D" + FaultPoints.PROPERTY + "=" + point,
                "-cp", System.getProperty("java.class.path"),
                ChildRuntime.class.getName(), state.toString(), rootfs.toString(), NS + "/" + prefix + ":churn")
                .redirectErrorStream(true)
                .redirectOutput(state.resolveSibling(state.getFileName() + "-fault.log").toFile())
                .start();
        children.add(child);
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the child halts at " + point).isTrue();
        assertThat(child.exitValue()).isEqualTo(FaultPoints.HALT_STATUS);

        TaskRuntime next = open(null);
        for (TaskRuntime r : List.of(live, next)) {
            Optional<Task> left = r.get(NS, id);
            if (left.isPresent()) {
                try {
                    left.get().delete(true);
                } catch (NotFoundException deletedByTheOther) {
                    // the first of the two runtimes deleted it
                }
            }
        }
        // a shim that never had (or no longer has) a container exits after its Shutdown, not with the delete
        await().atMost(AWAIT).untilAsserted(() -> Leftovers.assertNone(state, NS, id));
        // no lock or file of the halted process stands in the way of the same id
        Task again = next.create(sleeper(id));
        again.start();
        assertThat(again.state().status()).isEqualTo(dev.berth.api.task.TaskStatus.RUNNING);
        assertThat(again.delete(true).code()).isEqualTo(137);
        await().atMost(AWAIT).untilAsserted(() -> Leftovers.assertNone(state, NS, id));
    }

    private static List<Object> race(Callable<?> first, Callable<?> second) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Object>> fs = new ArrayList<>();
            for (Callable<?> c : List.of(first, second)) {
                fs.add(pool.submit(() -> {
                    go.await();
                    try {
                        return c.call();
                    } catch (RuntimeException e) {
                        return e;
                    }
                }));
            }
            go.countDown();
            List<Object> out = new ArrayList<>();
            for (Future<Object> f : fs) {
                out.add(f.get(60, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }
}
