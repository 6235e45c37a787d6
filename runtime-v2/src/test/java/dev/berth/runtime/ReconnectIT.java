package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskRuntime;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.TaskEvent;
import dev.berth.events.EventExchange;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tasks outliving their JVM or their shim: reconnect, dead shims, the session reaper. */
class ReconnectIT {
    private static final String NS = "berth-reconnect-it";
    private static final Duration AWAIT = Duration.ofSeconds(30);

    @TempDir
    static Path shared;
    static Path rootfs;

    @TempDir
    Path state;

    EventExchange events;
    final List<Envelope> taskEvents = new CopyOnWriteArrayList<>();
    TaskRuntime runtime;
    final List<String> ids = new ArrayList<>();
    final List<java.lang.Process> children = new ArrayList<>();

    @BeforeAll
    static void buildRootfs() throws Exception {
        rootfs = BusyboxRootfs.populate(Files.createDirectories(shared.resolve("rootfs")));
    }

    @BeforeEach
    void subscribe() {
        events = EventExchange.create();
        events.subscribe(taskEvents::add, "topic~=\"^/tasks/\"");
    }

    @AfterEach
    void noLeftovers() throws Exception {
        for (java.lang.Process child : children) {
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
            events.close();
        }
    }

    TaskRuntime open() {
        return TaskRuntimes.builder().stateDir(state).events(events).build();
    }

    String newId() {
        String id = "r-" + UUID.randomUUID().toString().substring(0, 8);
        ids.add(id);
        return id;
    }

    List<Envelope> eventsOf(String id) {
        return taskEvents.stream().filter(e -> e.event() instanceof TaskEvent t && t.containerId().equals(id)).toList();
    }

    /** Starts a {@link ChildRuntime} JVM with {@code tasks} and returns their pids once all run. */
    Map<String, Integer> startChild(String... tasks) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), ChildRuntime.class.getName(), state.toString(),
                rootfs.toString()));
        cmd.addAll(List.of(tasks));
        java.lang.Process child = new ProcessBuilder(cmd)
                .redirectError(state.resolveSibling(state.getFileName() + "-child.log").toFile())
                .start();
        children.add(child);
        CompletableFuture<Map<String, Integer>> ready = CompletableFuture.supplyAsync(() -> {
            Map<String, Integer> pids = new HashMap<>();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("TASK ")) {
                        String[] f = line.split(" ");
                        pids.put(f[1], Integer.parseInt(f[2]));
                    } else if (line.equals("READY")) {
                        return pids;
                    }
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            throw new IllegalStateException("child JVM ended before READY (exit " + child.exitValue() + ")");
        });
        return ready.get(60, TimeUnit.SECONDS);
    }

    /** SIGKILL: no shutdown hook, no finally block, nothing of the JVM runs. */
    static void sigkill(java.lang.Process child) throws InterruptedException {
        child.destroyForcibly();
        assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).isEqualTo(137);
    }

    static void sigkillShim(String id) throws InterruptedException {
        List<Long> shims = Leftovers.shimProcesses(id);
        assertThat(shims).as("shim of " + id).hasSize(1);
        ProcessHandle shim = ProcessHandle.of(shims.get(0)).orElseThrow();
        shim.destroyForcibly();
        await().atMost(AWAIT).until(() -> Leftovers.shimProcesses(id).isEmpty());
    }

    @Test
    void aRuntimeOnTheStateOfAKilledJvmFindsItsTasksAgain() throws Exception {
        String running = newId();
        String exiting = newId();
        String shimKilled = newId();
        Map<String, Integer> pids = startChild(NS + "/" + running + ":long", NS + "/" + exiting + ":exit5",
                NS + "/" + shimKilled + ":long");
        sigkill(children.get(0));
        sigkillShim(shimKilled);

        runtime = open();

        assertThat(runtime.tasks()).extracting(Task::id).containsExactlyInAnyOrder(running, exiting);
        Task alive = runtime.get(NS, running).orElseThrow();
        Task exits = runtime.get(NS, exiting).orElseThrow();
        assertThat(alive.pid()).isEqualTo(pids.get(running));
        assertThat(alive.isAlive()).isTrue();
        // Whether it exited before or after the reconnect, Wait reports the real status.
        assertThat(exits.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(5));
        alive.kill(9);
        assertThat(alive.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(137));
        assertThat(alive.delete().code()).isEqualTo(137);
        assertThat(exits.delete().code()).isEqualTo(5);
        // The bundle whose shim was gone was cleaned up with the shim's delete action, and announced.
        await().atMost(AWAIT).untilAsserted(() -> assertThat(eventsOf(shimKilled)).extracting(Envelope::topic)
                .containsExactly("/tasks/exit", "/tasks/delete"));
        assertThat(eventsOf(shimKilled).get(0).event()).isInstanceOfSatisfying(TaskEvent.Exit.class, e -> {
            assertThat(e.exitStatus()).isEqualTo(137);
            assertThat(e.pid()).isEqualTo(pids.get(shimKilled));
        });
        assertThat(Leftovers.isRunning(pids.get(shimKilled))).as("container of the dead shim").isFalse();
    }

    @Test
    void aShimKilledMidTaskStillGivesAnExit() throws Exception {
        runtime = open();
        String id = newId();
        Task task = runtime.create(TaskConfig.builder(id).namespace(NS)
                .spec(RuncSpec.of("sleep", "600").root(rootfs.toString()).toJson()).build());
        task.start();

        sigkillShim(id);

        assertThat(task.waitFor(AWAIT)).as("exit after the shim died")
                .hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(137));
        await("the container dies with its shim's cleanup").atMost(AWAIT).until(() -> !Leftovers.isRunning(task.pid()));
        assertThat(task.delete().code()).isEqualTo(137);
        await().atMost(AWAIT).untilAsserted(() -> assertThat(eventsOf(id)).extracting(Envelope::topic)
                .containsSubsequence("/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"));
    }

    @Test
    void sessionScopedTasksDieWithTheirJvmEvenBySigkill() throws Exception {
        String scoped = newId();
        String kept = newId();
        Map<String, Integer> pids = startChild(NS + "/" + scoped + ":long:scoped", NS + "/" + kept + ":long");

        sigkill(children.get(0));

        // The watcher removes its session directory last, when it is done.
        await().atMost(AWAIT).until(() -> {
            try (var sessions = Files.list(state.resolve("reaper"))) {
                return sessions.noneMatch(Files::isDirectory);
            }
        });
        assertThat(Leftovers.isRunning(pids.get(scoped))).isFalse();
        Leftovers.assertNone(state, NS, scoped);
        assertThat(Leftovers.isRunning(pids.get(kept))).as("a task without the option survives").isTrue();
        runtime = open();
        assertThat(runtime.tasks()).extracting(Task::id).containsExactly(kept);
    }

    @Test
    void closingTheRuntimeEndsItsSessionScopedTasks() throws Exception {
        runtime = open();
        String scoped = newId();
        String kept = newId();
        Task scopedTask = runtime.create(TaskConfig.builder(scoped).namespace(NS).sessionScoped(true)
                .spec(RuncSpec.of("sleep", "600").root(rootfs.toString()).toJson()).build());
        scopedTask.start();
        Task keptTask = runtime.create(TaskConfig.builder(kept).namespace(NS)
                .spec(RuncSpec.of("sleep", "600").root(rootfs.toString()).toJson()).build());
        keptTask.start();
        int scopedPid = scopedTask.pid();

        runtime.close();

        Leftovers.assertNone(state, NS, scoped);
        assertThat(Leftovers.isRunning(scopedPid)).isFalse();
        runtime = open();
        assertThat(runtime.tasks()).extracting(Task::id).containsExactly(kept);
    }

    @Test
    void aSessionWhoseWatcherDiedTooIsReapedByTheNextRuntime() throws Exception {
        runtime = open();
        String id = newId();
        Task task = runtime.create(TaskConfig.builder(id).namespace(NS)
                .spec(RuncSpec.of("sleep", "600").root(rootfs.toString()).toJson()).build());
        task.start();
        int pid = task.pid();
        String shim = Files.readString(task.bundle().resolve("shim-binary-path"));
        runtime.close();
        // As if the JVM and its watcher had both been SIGKILLed: a session naming a dead watcher.
        java.lang.Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path session = Files.createDirectories(state.resolve("reaper").resolve(UUID.randomUUID().toString()));
        Files.writeString(session.resolve("watcher"), Long.toString(gone.pid()));
        Files.writeString(session.resolve(NS + "@" + id + ".task"), String.join("\n", NS, id,
                task.bundle().toString(), shim, state.resolve("berth.sock").toString(),
                state.resolve("fifo").resolve(NS).resolve(id).toString(), "0") + "\n");

        runtime = open();

        assertThat(runtime.tasks()).isEmpty();
        assertThat(Leftovers.isRunning(pid)).isFalse();
        assertThat(session).doesNotExist();
        Leftovers.assertNone(state, NS, id);
    }

    /**
     * Collects numbered output lines ({@code <n> ...}) as a caller's stream would. The first line is not
     * counted: an attach gets what was drained since the reconnect, which may begin with the tail of a line
     * the previous reader took the start of.
     */
    static final class NumberedLines extends java.io.OutputStream {
        private final StringBuilder line = new StringBuilder();
        private boolean firstSkipped;
        private long first = -1;
        private long last = -1;
        private int gaps;

        @Override
        public synchronized void write(int b) {
            if (b != '\n') {
                line.append((char) b);
                return;
            }
            if (!firstSkipped) {
                firstSkipped = true;
                line.setLength(0);
                return;
            }
            long n = Long.parseLong(line.substring(0, line.indexOf(" ")));
            line.setLength(0);
            if (first < 0) {
                first = n;
            } else if (n != last + 1) {
                gaps++;
            }
            last = n;
        }

        synchronized long last() {
            return last;
        }

        synchronized long received() {
            return first < 0 ? 0 : last - first + 1;
        }

        synchronized int gaps() {
            return gaps;
        }
    }

    /** Whether a process of the container started as {@code pid} is stuck writing to a full pipe. */
    static boolean blockedOnAPipe(long pid) {
        try {
            if (Files.readString(Path.of("/proc", Long.toString(pid), "wchan")).contains("pipe_write")) {
                return true;
            }
            for (String child : Files.readString(Path.of("/proc", Long.toString(pid), "task", Long.toString(pid),
                    "children")).trim().split(" ")) {
                if (!child.isEmpty() && blockedOnAPipe(Long.parseLong(child))) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    /** What this JVM still has open under {@code dir}, and which threads are pumping a FIFO. */
    static List<String> openUnder(Path dir) throws IOException {
        List<String> open = new ArrayList<>();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith(dir.toString())) {
                        open.add(fd + " -> " + target);
                    }
                } catch (IOException e) {
                    // closed while listing
                }
            }
        }
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            for (StackTraceElement frame : stack) {
                if (frame.getClassName().endsWith(".FifoPump")) {
                    open.add("thread " + thread.getName() + " in " + frame);
                    break;
                }
            }
        });
        return open;
    }

    /** Output is needed well past what the FIFO and the shim's pipe hold (some 200 KB) to prove progress. */
    static void assertKeepsWriting(NumberedLines lines) {
        await("output attached").atMost(AWAIT).until(() -> lines.received() > 0);
        await("output past every buffer").atMost(AWAIT).until(() -> lines.received() > 3_000);
        assertThat(lines.gaps()).as("lines missing while attached").isZero();
    }

    @Test
    void aReconnectedTasksOutputIsDrainedSoItKeepsRunningAndAttachGetsItsNewLines() throws Exception {
        String id = newId();
        int pid = startChild(NS + "/" + id + ":chatty").get(id);
        sigkill(children.get(0));
        // Nobody reads the FIFO any more: within a second or so the container blocks on its stdout.
        await("container blocked on its stdout").atMost(AWAIT).until(() -> blockedOnAPipe(pid));

        runtime = open();
        Task task = runtime.get(NS, id).orElseThrow();
        await("drained again").atMost(AWAIT).until(() -> !blockedOnAPipe(pid));
        NumberedLines lines = new NumberedLines();
        task.attach(lines, null);

        assertKeepsWriting(lines);
        task.kill(9);
        assertThat(task.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(137));
        task.delete();
        assertThat(openUnder(state.resolve("fifo"))).as("FIFO fds and pump threads left").isEmpty();
    }

    @Test
    void aTaskLeftByAClosedRuntimeIsDrainedByTheNext() throws Exception {
        runtime = open();
        String id = newId();
        Task task = runtime.create(TaskConfig.builder(id).namespace(NS)
                .spec(RuncSpec.of(ChildRuntime.CHATTY).root(rootfs.toString()).toJson())
                .stdio(Stdio.of(null, java.io.OutputStream.nullOutputStream(), null)).build());
        task.start();
        runtime.close();
        assertThat(openUnder(state.resolve("fifo"))).as("FIFO fds and pump threads left by close").isEmpty();

        runtime = open();
        NumberedLines lines = new NumberedLines();
        runtime.get(NS, id).orElseThrow().attach(lines, null);

        assertKeepsWriting(lines);
    }

    @Test
    void anAttachWhileAnotherRuntimeReadsTheOutputGetsItOnceThatRuntimeLetsGo() throws Exception {
        runtime = open();
        String id = newId();
        Task created = runtime.create(TaskConfig.builder(id).namespace(NS)
                .spec(RuncSpec.of(ChildRuntime.CHATTY).root(rootfs.toString()).toJson())
                .stdio(Stdio.of(null, java.io.OutputStream.nullOutputStream(), null)).build());
        created.start();
        try (TaskRuntime second = open()) {
            Task found = second.get(NS, id).orElseThrow();
            NumberedLines lines = new NumberedLines();

            found.attach(lines, null); // accepted while the creator still reads the FIFOs
            assertThat(lines.received()).as("nothing while the creator reads").isZero();
            runtime.close();

            assertKeepsWriting(lines);
            found.kill(9);
            assertThat(found.waitFor(AWAIT)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(137));
            found.delete();
        }
        assertThat(openUnder(state.resolve("fifo"))).as("FIFO fds and pump threads left").isEmpty();
    }

    @Test
    void attachIsRefusedForTasksWithoutReconnectedOutput() throws Exception {
        runtime = open();
        String own = newId();
        Task ownStdio = runtime.create(TaskConfig.builder(own).namespace(NS)
                .spec(RuncSpec.of("sleep", "600").root(rootfs.toString()).toJson())
                .stdio(Stdio.of(null, java.io.OutputStream.nullOutputStream(), null)).build());
        String silent = newId();
        runtime.create(TaskConfig.builder(silent).namespace(NS)
                .spec(RuncSpec.of("sleep", "600").root(rootfs.toString()).toJson()).build());
        runtime.close();
        runtime = open();

        assertThatThrownBy(() -> ownStdio.attach(null, null)).isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> runtime.get(NS, silent).orElseThrow().attach(null, null))
                .isInstanceOf(FailedPreconditionException.class).hasMessageContaining("no output FIFOs");
        String fresh = newId();
        Task created = runtime.create(TaskConfig.builder(fresh).namespace(NS)
                .spec(RuncSpec.of("sleep", "600").root(rootfs.toString()).toJson())
                .stdio(Stdio.of(null, java.io.OutputStream.nullOutputStream(), null)).build());
        assertThatThrownBy(() -> created.attach(null, null)).isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("created by this runtime");
    }

    @Test
    void aSecondRuntimeOnTheSameStateServesNoEventsSocketUntilTheFirstCloses() {
        runtime = open();
        try (TaskRuntime second = open()) {
            assertThat(((dev.berth.runtime.internal.ShimRuntime) runtime).servesEventsSocket()).isTrue();
            assertThat(((dev.berth.runtime.internal.ShimRuntime) second).servesEventsSocket()).isFalse();
            runtime.close();
            await().atMost(AWAIT).until(((dev.berth.runtime.internal.ShimRuntime) second)::servesEventsSocket);
            assertThat(state.resolve("events.sock")).exists();
        }
    }
}
