package dev.berth.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.berth.api.BerthException;
import dev.berth.api.DeadlineExceededException;
import dev.berth.api.ClosedException;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskRuntime;
import dev.berth.runtime.TaskRuntimes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtime against a {@link FakeShim} that misbehaves: no root, no runc. Whatever the shim does, a
 * caller gets an answer (never a hang), an exit status, and nothing of the task is left behind.
 */
class ShimFailuresTest {
    private static final String SPEC = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}}";

    @TempDir
    Path state;
    @TempDir
    Path shimDir;
    FakeShim shim;
    TaskRuntime runtime;
    final String id = "fake-" + UUID.randomUUID().toString().substring(0, 8);

    void start(FakeShim fake, Duration rpcTimeout) {
        shim = fake;
        runtime = TaskRuntimes.builder().stateDir(state).rpcTimeout(rpcTimeout).build();
    }

    void start(FakeShim fake) {
        start(fake, Duration.ofSeconds(5));
    }

    Task create() {
        return runtime.create(TaskConfig.builder(id).spec(SPEC).stdio(Stdio.nullIO())
                .runtime(shim.binary().toString()).build());
    }

    Path bundle() {
        return state.resolve("tasks").resolve("default").resolve(id);
    }

    @AfterEach
    void stop() {
        if (runtime != null) {
            runtime.close();
        }
        if (shim != null) {
            shim.close();
        }
    }

    @Nested
    class FailedCreate {
        @Test
        void aShimThatHangsInCreateFailsTheCreateWithinTheDeadlineAndIsStopped() throws Exception {
            start(new FakeShim(shimDir).hang("Create"), Duration.ofSeconds(1));

            assertThatThrownBy(ShimFailuresTest.this::create).isInstanceOf(DeadlineExceededException.class)
                    .hasMessageContaining(id);

            assertThat(shim.shutdown.get(5, TimeUnit.SECONDS).getNow()).isTrue();
            assertThat(shim.deleteActions()).containsExactly("delete");
            assertThat(runtime.tasks()).isEmpty();
            await().atMost(Duration.ofSeconds(5)).until(() -> !Files.exists(bundle()));
        }

        @Test
        void garbageForConnectFailsTheCreateAndStopsTheShim() throws Exception {
            start(new FakeShim(shimDir).garbage("Connect"));

            assertThatThrownBy(ShimFailuresTest.this::create).isInstanceOf(BerthException.class)
                    .hasMessageContaining("cannot decode response of containerd.task.v2.Task/Connect");

            assertThat(shim.shutdown.get(5, TimeUnit.SECONDS).getNow()).isTrue();
            assertThat(shim.calls).doesNotContain("Create");
            assertThat(runtime.tasks()).isEmpty();
            await().atMost(Duration.ofSeconds(5)).until(() -> !Files.exists(bundle()));
        }

        @Test
        void aShimWhoseStartCannotBeRecordedIsShutDownNotOrphaned() throws Exception {
            // The bundle cannot take shim-binary-path (as on a full disk) once the shim runs.
            start(new FakeShim(shimDir, "mkdir -p shim-binary-path/taken"));

            assertThatThrownBy(ShimFailuresTest.this::create).isInstanceOf(BerthException.class)
                    .hasMessageContaining("shim-binary-path");

            assertThat(shim.shutdown.get(5, TimeUnit.SECONDS).getNow()).isTrue();
            assertThat(shim.deleteActions()).containsExactly("delete");
            assertThat(shim.calls).doesNotContain("Create");
            assertThat(shimDir.resolve("shim.sock")).doesNotExist();
            await().atMost(Duration.ofSeconds(5)).until(() -> !Files.exists(bundle()));
        }
    }

    @Nested
    class LostShim {
        @Test
        void aShimThatDiesBetweenCreateAndStartEndsTheTaskWith137() throws Exception {
            start(new FakeShim(shimDir));
            Task task = create();

            shim.die();

            assertThatThrownBy(task::start).isInstanceOf(BerthException.class);
            assertThat(task.waitFor(Duration.ofSeconds(10))).map(ExitStatus::code).contains(137);
            assertThat(task.delete().code()).isEqualTo(137);
            assertThat(shim.deleteActions()).containsExactly("delete");
            assertThat(runtime.tasks()).isEmpty();
            await().atMost(Duration.ofSeconds(5)).until(() -> !Files.exists(bundle()));
        }

        @Test
        void aConnectionDroppedDuringWaitEndsTheTaskWith137() throws Exception {
            start(new FakeShim(shimDir));
            Task task = create();
            task.start();
            await().atMost(Duration.ofSeconds(5)).until(() -> shim.calls.contains("Wait"));

            shim.die();

            assertThat(task.waitFor(Duration.ofSeconds(10))).map(ExitStatus::code).contains(137);
            assertThat(task.isAlive()).isFalse();
            assertThat(task.delete().code()).isEqualTo(137);
            assertThat(runtime.tasks()).isEmpty();
        }
    }

    @Nested
    class Misbehaving {
        @Test
        void garbageForStateIsAnErrorAndTheTaskCanStillBeDeleted() throws Exception {
            start(new FakeShim(shimDir).garbage("State"));
            Task task = create();
            task.start();

            assertThatThrownBy(task::state).isInstanceOf(BerthException.class)
                    .hasMessageContaining("cannot decode response of containerd.task.v2.Task/State");

            assertThat(task.delete(true).code()).isEqualTo(137);
            assertThat(shim.shutdown.get(5, TimeUnit.SECONDS).getNow()).isFalse();
            await().atMost(Duration.ofSeconds(5)).until(() -> !Files.exists(bundle()));
        }

        @Test
        void closeDoesNotWaitForADeleteStuckOnTheShim() throws Exception {
            start(new FakeShim(shimDir).hang("Delete"), Duration.ofSeconds(10));
            Task task = create();
            task.start();
            task.kill(9);
            assertThat(task.waitFor(Duration.ofSeconds(5))).map(ExitStatus::code).contains(137);
            CompletableFuture<ExitStatus> deleting = CompletableFuture.supplyAsync(task::delete);
            await().atMost(Duration.ofSeconds(5)).until(() -> shim.calls.contains("Delete"));

            long t0 = System.nanoTime();
            task.close();
            long millis = (System.nanoTime() - t0) / 1_000_000;

            // Well below the 10 s RPC timeout close() must not wait out, with room for a loaded machine.
            assertThat(millis).as("close() while Delete hangs, in ms").isLessThan(3_000);
            assertThat(deleting).failsWithin(Duration.ofSeconds(30)).withThrowableOfType(Exception.class)
                    .withRootCauseInstanceOf(DeadlineExceededException.class);
            // The close asked for during the delete took effect once the delete failed.
            assertThatThrownBy(task::delete).isInstanceOf(ClosedException.class).hasMessageContaining(id);
        }

        // Repeated: the race it guards against (the runtime's event loop stopping before the connection's
        // close reached the pending Delete) showed about one run in three.
        @org.junit.jupiter.api.RepeatedTest(5)
        void aDeleteInFlightWhenTheRuntimeClosesEndsPromptlyWithAnExitOrABerthError() throws Exception {
            start(new FakeShim(shimDir).hang("Delete"), Duration.ofSeconds(60));
            Task task = create();
            task.start();
            task.kill(9);
            assertThat(task.waitFor(Duration.ofSeconds(5))).map(ExitStatus::code).contains(137);
            CompletableFuture<ExitStatus> deleting = CompletableFuture.supplyAsync(task::delete);
            await().atMost(Duration.ofSeconds(5)).until(() -> shim.calls.contains("Delete"));

            long t0 = System.nanoTime();
            runtime.close();
            long millis = (System.nanoTime() - t0) / 1_000_000;

            // Far below the 60 s RPC timeout it must not wait out, with room for a loaded machine.
            assertThat(millis).as("runtime close() while Delete hangs, in ms").isLessThan(15_000);
            // Depending on how far the runtime's threads got, the delete ends through the shim's delete
            // action (the connection dropped under it) or fails as unavailable; never hangs, never leaks
            // an executor's RejectedExecutionException.
            await().atMost(Duration.ofSeconds(70)).until(deleting::isDone);
            deleting.handle((status, error) -> {
                if (error != null) {
                    assertThat(error).hasCauseInstanceOf(BerthException.class);
                } else {
                    assertThat(status.code()).isIn(137, 255);
                }
                return null;
            }).join();
        }
    }
}
