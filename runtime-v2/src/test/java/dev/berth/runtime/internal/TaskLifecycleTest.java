package dev.berth.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.berth.api.ClosedException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.UnavailableException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TaskLifecycleTest {
    private final TaskLifecycle<String> lifecycle = new TaskLifecycle<>("task ns/t1");
    private final AtomicInteger closes = new AtomicInteger();

    @Test
    void aSecondDeleteGetsTheFirstOnesResultWithoutRunningAgain() {
        AtomicInteger runs = new AtomicInteger();

        assertThat(lifecycle.delete(() -> "exit " + runs.incrementAndGet(), closes::incrementAndGet)).isEqualTo("exit 1");
        assertThat(lifecycle.delete(() -> "exit " + runs.incrementAndGet(), closes::incrementAndGet)).isEqualTo("exit 1");
        assertThat(runs).hasValue(1);
    }

    @Test
    void closeDuringADeleteReturnsAtOnceAndLeavesTheTaskToTheDelete() throws Exception {
        CountDownLatch inShim = new CountDownLatch(1);
        CountDownLatch shimAnswers = new CountDownLatch(1);
        CompletableFuture<String> deleting = CompletableFuture.supplyAsync(() -> lifecycle.delete(() -> {
            inShim.countDown();
            await(shimAnswers);
            return "exit 0";
        }, closes::incrementAndGet));
        assertThat(inShim.await(5, TimeUnit.SECONDS)).isTrue();

        assertThat(lifecycle.close()).as("caller should close now").isFalse();

        shimAnswers.countDown();
        assertThat(deleting.get(5, TimeUnit.SECONDS)).isEqualTo("exit 0");
        assertThat(closes).hasValue(0);
    }

    @Test
    void aCloseAskedForDuringAFailedDeleteTakesEffectAfterIt() throws Exception {
        CountDownLatch inShim = new CountDownLatch(1);
        CountDownLatch shimFails = new CountDownLatch(1);
        CompletableFuture<String> deleting = CompletableFuture.supplyAsync(() -> lifecycle.delete(() -> {
            inShim.countDown();
            await(shimFails);
            throw new UnavailableException("shim does not answer");
        }, closes::incrementAndGet));
        assertThat(inShim.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(lifecycle.close()).isFalse();

        shimFails.countDown();

        assertThat(deleting).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(Exception.class)
                .withCauseInstanceOf(UnavailableException.class);
        assertThat(closes).hasValue(1);
    }

    @Test
    void aFailedDeleteCanBeRetried() {
        assertThatThrownBy(() -> lifecycle.delete(() -> {
            throw new FailedPreconditionException("task ns/t1 is RUNNING");
        }, closes::incrementAndGet)).isInstanceOf(FailedPreconditionException.class);

        assertThat(lifecycle.delete(() -> "exit 137", closes::incrementAndGet)).isEqualTo("exit 137");
    }

    @Test
    void aClosedTaskCannotBeDeletedAndClosesOnce() {
        assertThat(lifecycle.close()).isTrue();
        assertThat(lifecycle.close()).isFalse();

        assertThatThrownBy(() -> lifecycle.delete(() -> "exit 0", closes::incrementAndGet))
                .isInstanceOf(ClosedException.class).hasMessage("task ns/t1 is closed");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
