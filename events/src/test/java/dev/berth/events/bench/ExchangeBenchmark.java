package dev.berth.events.bench;

import dev.berth.api.event.Envelope;
import dev.berth.api.event.Subscription;
import dev.berth.api.event.TaskEvent;
import dev.berth.events.EventExchange;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Throughput of {@link EventExchange}, run on demand (never by Surefire or Failsafe):
 * <pre>
 *   mvn -o -q -pl events test-compile exec:exec            # the short configuration in main()
 *   mvn -o -q -pl events test-compile exec:exec -Djmh.args="publish -f 2 -wi 5 -i 10"   # any JMH options
 * </pre>
 * {@code publish}: how fast one thread can publish with N subscribers attached (subscribers that fall behind
 * drop the oldest envelopes past the default bound, as in production; the trial prints how many were
 * delivered and dropped). {@code publishAndDeliver}: events per second from publish until every subscriber
 * has handled each one (a batch of {@value #BATCH} per invocation, below the bound, so nothing is dropped).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ExchangeBenchmark {
    static final int BATCH = 10_000;

    private static final TaskEvent.Start EVENT = new TaskEvent.Start("bench", 1);

    /** An exchange with N subscribers that count what they receive. */
    @State(Scope.Benchmark)
    public static class Subscribed {
        @Param({"1", "4"})
        public int subscribers;

        EventExchange exchange;
        final List<Subscription> subscriptions = new ArrayList<>();
        final List<long[]> delivered = new ArrayList<>();
        volatile TaskEvent.Start last;
        volatile CountDownLatch allHandledLast;

        @Setup(Level.Trial)
        public void open() {
            exchange = EventExchange.builder().threadNamePrefix("bench-events").build();
            for (int i = 0; i < subscribers; i++) {
                long[] count = new long[1];
                delivered.add(count);
                Consumer<Envelope> handler = envelope -> {
                    count[0]++;
                    if (envelope.event() == last) {
                        allHandledLast.countDown();
                    }
                };
                subscriptions.add(exchange.subscribe(handler));
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            long dropped = subscriptions.stream().mapToLong(Subscription::dropped).sum();
            exchange.close();
            // Counters are read after close: the delivery threads have ended (close waits for idle ones).
            long handled = delivered.stream().mapToLong(c -> c[0]).sum();
            System.out.printf("%n[%d subscriber(s)] handled %,d envelopes, dropped %,d past the bound%n",
                    subscribers, handled, dropped);
        }
    }

    @Benchmark
    public void publish(Subscribed state) {
        state.exchange.publish("default", EVENT);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void publishAndDeliver(Subscribed state, Blackhole blackhole) throws InterruptedException {
        TaskEvent.Start lastOfBatch = new TaskEvent.Start("bench", 2);
        state.allHandledLast = new CountDownLatch(state.subscribers);
        state.last = lastOfBatch;
        for (int i = 1; i < BATCH; i++) {
            state.exchange.publish("default", EVENT);
        }
        state.exchange.publish("default", lastOfBatch);
        state.allHandledLast.await();
        blackhole.consume(lastOfBatch);
    }

    /** Runs the short configuration (1 fork, 3 x 1 s warm-up, 5 x 1 s measurement), or JMH's own arguments. */
    public static void main(String[] args) throws RunnerException, java.io.IOException {
        if (args.length > 0) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        Options options = new OptionsBuilder()
                .include(ExchangeBenchmark.class.getName() + "\\.")
                .build();
        new Runner(options).run();
    }
}
