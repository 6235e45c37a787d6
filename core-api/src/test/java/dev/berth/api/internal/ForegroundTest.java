package dev.berth.api.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class ForegroundTest {
    /** Runs the work on the releasing thread, so what has run is known at once. */
    private static final Executor DIRECT = Runnable::run;

    private final List<String> ran = new CopyOnWriteArrayList<>();

    @Test
    void withNobodyEnteredDeferredWorkRunsAtOnce() {
        Foreground.Deferred d = Foreground.defer(DIRECT, () -> ran.add("refill"));
        assertThat(ran).containsExactly("refill");
        assertThat(d.released()).isTrue();
    }

    @Nested
    class WhileAHoldIsOpen {
        @Test
        void deferredWorkWaitsUntilTheLastHoldCloses() {
            Foreground.Hold first = Foreground.enter();
            Foreground.Hold second = Foreground.enter();
            Foreground.Deferred d = Foreground.defer(DIRECT, () -> ran.add("refill"));
            assertThat(ran).isEmpty();
            assertThat(d.released()).isFalse();
            first.close();
            assertThat(ran).isEmpty();
            second.close();
            assertThat(ran).containsExactly("refill");
            assertThat(Foreground.entered()).isZero();
        }

        @Test
        void expeditedWorkRunsAtOnceAndOnlyOnce() {
            try (Foreground.Hold hold = Foreground.enter()) {
                Foreground.Deferred d = Foreground.defer(DIRECT, () -> ran.add("refill"));
                d.expedite();
                assertThat(ran).containsExactly("refill");
                d.expedite();
                assertThat(hold).isNotNull();
            }
            assertThat(ran).containsExactly("refill");
        }

        @Test
        void closingAHoldTwiceCountsOnce() {
            Foreground.Hold outer = Foreground.enter();
            Foreground.Hold inner = Foreground.enter();
            Foreground.defer(DIRECT, () -> ran.add("refill"));
            inner.close();
            inner.close();
            assertThat(ran).as("the outer hold is still open").isEmpty();
            outer.close();
            assertThat(ran).containsExactly("refill");
        }

        @Test
        void workAnExecutorRejectsRunsOnTheReleasingThread() {
            Executor rejecting = r -> {
                throw new RejectedExecutionException("shut down");
            };
            Foreground.Hold hold = Foreground.enter();
            Foreground.defer(rejecting, () -> ran.add(Thread.currentThread().getName()));
            hold.close();
            assertThat(ran).containsExactly(Thread.currentThread().getName());
        }

        @Test
        void releasedWorkRunsOnItsExecutor() throws InterruptedException {
            CountDownLatch done = new CountDownLatch(1);
            Executor own = r -> {
                Thread t = new Thread(r, "refill-thread");
                t.start();
            };
            Foreground.Hold hold = Foreground.enter();
            Foreground.defer(own, () -> {
                ran.add(Thread.currentThread().getName());
                done.countDown();
            });
            hold.close();
            assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(ran).containsExactly("refill-thread");
        }
    }
}
