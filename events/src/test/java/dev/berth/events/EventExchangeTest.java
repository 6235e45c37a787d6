package dev.berth.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.event.ContainerEvent;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.Event;
import dev.berth.api.event.Subscription;
import dev.berth.api.event.TaskEvent;
import dev.berth.api.event.UnknownEvent;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EventExchangeTest {
    private static final String NS = "default";

    private final RecordingThreadFactory threads = new RecordingThreadFactory();
    private final ExecutorService pool = Executors.newFixedThreadPool(2);
    private final List<CountDownLatch> gates = new ArrayList<>();
    private EventExchange exchange = EventExchange.builder().threadFactory(threads).build();

    @AfterEach
    void tearDown() throws InterruptedException {
        gates.forEach(CountDownLatch::countDown);
        exchange.close();
        pool.shutdownNow();
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        threads.joinAll();
        assertThat(threads.threads).noneMatch(Thread::isAlive);
    }

    private static ContainerEvent.Create created(String id) {
        return new ContainerEvent.Create(id, "busybox", "io.containerd.runc.v2");
    }

    private static TaskEvent.Exit exit(String id) {
        return new TaskEvent.Exit(id, id, 7, 137, Instant.EPOCH);
    }

    private CountDownLatch gate() {
        CountDownLatch gate = new CountDownLatch(1);
        gates.add(gate);
        return gate;
    }

    /** A handler that records, and blocks inside the first delivery until {@code release} opens. */
    private static Consumer<Envelope> blockingFirst(Recorder recorder, CountDownLatch entered, CountDownLatch release) {
        return envelope -> {
            recorder.accept(envelope);
            if (entered.getCount() > 0) {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
    }

    @Nested
    class Ordering {
        @Test
        void everySubscriberSeesEachPublishersSequenceInOrder() throws Exception {
            exchange.close();
            exchange = EventExchange.builder().threadFactory(threads).queueBound(1_000_000).build();
            int publishers = 4;
            int perPublisher = 20_000;
            int total = publishers * perPublisher;

            List<Map<String, Integer>> lastSeen = new ArrayList<>();
            List<List<String>> violations = new ArrayList<>();
            List<CountDownLatch> done = new ArrayList<>();
            List<Subscription> subscriptions = new ArrayList<>();
            for (int s = 0; s < 3; s++) {
                Map<String, Integer> last = new HashMap<>();
                List<String> bad = new ArrayList<>();
                CountDownLatch all = new CountDownLatch(total);
                Consumer<Envelope> checker = envelope -> {
                    TaskEvent.Start start = (TaskEvent.Start) envelope.event();
                    int previous = last.getOrDefault(start.containerId(), -1);
                    if (start.pid() != previous + 1) {
                        bad.add(start.containerId() + ": " + start.pid() + " after " + previous);
                    }
                    last.put(start.containerId(), start.pid());
                    all.countDown();
                };
                // Two dedicated threads and one executor-driven subscriber.
                subscriptions.add(s < 2 ? exchange.subscribe(checker) : exchange.subscribe(pool, checker));
                lastSeen.add(last);
                violations.add(bad);
                done.add(all);
            }

            CyclicBarrier start = new CyclicBarrier(publishers);
            List<Thread> publisherThreads = new ArrayList<>();
            for (int p = 0; p < publishers; p++) {
                String id = "publisher" + p;
                Thread t = new Thread(() -> {
                    try {
                        start.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    for (int i = 0; i < perPublisher; i++) {
                        exchange.publish(NS, new TaskEvent.Start(id, i));
                    }
                });
                t.start();
                publisherThreads.add(t);
            }
            for (Thread t : publisherThreads) {
                t.join();
            }
            for (int s = 0; s < 3; s++) {
                assertThat(done.get(s).await(60, TimeUnit.SECONDS)).as("subscriber %d got everything", s).isTrue();
                // The latch orders the handler's writes before these reads.
                assertThat(violations.get(s)).as("out-of-order deliveries to subscriber %d", s).isEmpty();
                assertThat(lastSeen.get(s)).hasSize(publishers).allSatisfy((k, v) -> assertThat(v).isEqualTo(perPublisher - 1));
                assertThat(subscriptions.get(s).dropped()).isZero();
            }
        }

        @Test
        void executorSubscriberGetsOneEnvelopeAtATimeInOrder() throws Exception {
            ExecutorService wide = Executors.newFixedThreadPool(4);
            try {
                AtomicInteger concurrent = new AtomicInteger();
                AtomicInteger maxConcurrent = new AtomicInteger();
                Recorder recorder = new Recorder();
                exchange.subscribe(wide, envelope -> {
                    maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
                    recorder.accept(envelope);
                    concurrent.decrementAndGet();
                });
                for (int i = 0; i < 1_000; i++) {
                    exchange.publish(NS, new TaskEvent.Start("c", i));
                }
                recorder.awaitCount(1_000);
                assertThat(recorder.events()).extracting(e -> ((TaskEvent.Start) e).pid())
                        .containsExactlyElementsOf(IntStream.range(0, 1_000).boxed().toList());
                assertThat(maxConcurrent).hasValue(1);
            } finally {
                wide.shutdownNow();
            }
        }
    }

    @Nested
    class Delivery {
        @Test
        void slowSubscriberDoesNotDelayOthersOrPublishers() throws Exception {
            Recorder slow = new Recorder();
            CountDownLatch slowEntered = new CountDownLatch(1);
            CountDownLatch release = gate();
            Subscription slowSub = exchange.subscribe(blockingFirst(slow, slowEntered, release));
            Recorder fast = new Recorder();
            Recorder fastOnExecutor = new Recorder();
            exchange.subscribe(fast);
            exchange.subscribe(pool, fastOnExecutor);

            int n = 1_000;
            for (int i = 0; i < n; i++) {
                exchange.publish(NS, new TaskEvent.Start("c", i));
            }
            // Publishing finished while the slow handler is stuck in its first event; the others got all.
            assertThat(slowEntered.await(30, TimeUnit.SECONDS)).isTrue();
            fast.awaitCount(n);
            fastOnExecutor.awaitCount(n);
            assertThat(slow.envelopes()).hasSize(1);
            assertThat(slowSub.queueDepth()).isEqualTo(n - 1);

            release.countDown();
            slow.awaitCount(n);
            assertThat(slow.events()).isEqualTo(fast.events()).isEqualTo(fastOnExecutor.events());
            assertThat(slowSub.dropped()).isZero();
        }

        @Test
        void throwingHandlerIsLoggedAndKeepsReceiving() throws Exception {
            Recorder seen = new Recorder();
            Consumer<Envelope> flaky = envelope -> {
                seen.accept(envelope);
                if (((TaskEvent.Start) envelope.event()).pid() % 2 == 0) {
                    throw new IllegalStateException("handler bug");
                }
            };
            Recorder seenOnExecutor = new Recorder();
            Consumer<Envelope> flakyOnExecutor = envelope -> {
                seenOnExecutor.accept(envelope);
                throw new AssertionError("worse handler bug");
            };
            exchange.subscribe(flaky);
            exchange.subscribe(pool, flakyOnExecutor);
            for (int i = 0; i < 100; i++) {
                exchange.publish(NS, new TaskEvent.Start("c", i));
            }
            exchange.publish(NS, exit("c"));
            assertThat(seen.awaitCount(101).topics()).last().isEqualTo("/tasks/exit");
            assertThat(seenOnExecutor.awaitCount(101).topics()).last().isEqualTo("/tasks/exit");
        }

        @Test
        void envelopesRejectedByTheExecutorStayQueuedUntilItAccepts() throws Exception {
            AtomicBoolean rejecting = new AtomicBoolean(true);
            Executor moody = task -> {
                if (rejecting.get()) {
                    throw new RejectedExecutionException("saturated");
                }
                pool.execute(task);
            };
            Recorder recorder = new Recorder();
            Subscription subscription = exchange.subscribe(moody, recorder);
            exchange.publish(NS, created("a"));
            exchange.publish(NS, created("b"));
            assertThat(subscription.queueDepth()).isEqualTo(2);

            rejecting.set(false);
            exchange.publish(NS, created("c"));
            assertThat(recorder.awaitCount(3).events()).containsExactly(created("a"), created("b"), created("c"));
            assertThat(subscription.dropped()).isZero();
        }

        @Test
        void publishStampsWithTheClockAndForwardKeepsTheTimestamp() throws Exception {
            Instant now = Instant.parse("2024-05-01T10:00:00Z");
            exchange.close();
            exchange = EventExchange.builder().threadFactory(threads).clock(Clock.fixed(now, ZoneOffset.UTC)).build();
            Recorder recorder = new Recorder();
            exchange.subscribe(recorder);

            exchange.publish("ns1", "/custom/topic", created("a"));
            Instant shimTime = Instant.parse("2020-01-01T00:00:00.123456789Z");
            exchange.forward(new Envelope(shimTime, "ns2", "/tasks/exit", exit("b")));

            assertThat(recorder.awaitCount(2).envelopes()).containsExactly(
                    new Envelope(now, "ns1", "/custom/topic", created("a")),
                    new Envelope(shimTime, "ns2", "/tasks/exit", exit("b")));
        }

        @Test
        void publishWithoutTopicUsesTheEventsOwnTopic() throws Exception {
            Recorder recorder = new Recorder();
            exchange.subscribe(recorder);
            exchange.publish(NS, new TaskEvent.Oom("c"));
            assertThat(recorder.awaitCount(1).topics()).containsExactly("/tasks/oom");
        }

        @Test
        void subscriberSeesOnlyWhatIsPublishedWhileSubscribed() throws Exception {
            exchange.publish(NS, created("before"));
            Recorder recorder = new Recorder();
            Subscription subscription = exchange.subscribe(recorder);
            exchange.publish(NS, created("during"));
            recorder.awaitCount(1);
            subscription.close();
            exchange.publish(NS, created("after"));
            Recorder marker = new Recorder();
            exchange.subscribe(marker);
            exchange.publish(NS, created("marker"));
            marker.awaitCount(1);
            assertThat(recorder.events()).containsExactly(created("during"));
        }
    }

    @Nested
    class Closing {
        @Test
        void closedSubscriptionStopsDeliveryAndReleasesItsQueue() throws Exception {
            Recorder recorder = new Recorder();
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = gate();
            Subscription subscription = exchange.subscribe(blockingFirst(recorder, entered, release));
            exchange.publish(NS, created("first"));
            assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 10; i++) {
                exchange.publish(NS, created("queued" + i));
            }
            exchange.publish(NS, exit("queued-exit"));
            assertThat(subscription.queueDepth()).isEqualTo(11);

            subscription.close();
            assertThat(subscription.isClosed()).isTrue();
            assertThat(subscription.queueDepth()).isZero();
            assertThat(exchange.subscriptionCount()).isZero();

            release.countDown();
            threads.joinAll();
            assertThat(threads.threads).hasSize(1).noneMatch(Thread::isAlive);
            assertThat(recorder.events()).containsExactly(created("first"));
        }

        @Test
        void closedExecutorSubscriptionRunsNoMoreTasks() throws Exception {
            ExecutorService single = Executors.newSingleThreadExecutor();
            try {
                Recorder recorder = new Recorder();
                CountDownLatch entered = new CountDownLatch(1);
                CountDownLatch release = gate();
                Subscription subscription = exchange.subscribe(single, blockingFirst(recorder, entered, release));
                exchange.publish(NS, created("first"));
                assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
                for (int i = 0; i < 10; i++) {
                    exchange.publish(NS, created("queued" + i));
                }
                subscription.close();
                assertThat(subscription.queueDepth()).isZero();
                release.countDown();
                single.shutdown();
                assertThat(single.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
                assertThat(recorder.events()).containsExactly(created("first"));
            } finally {
                single.shutdownNow();
            }
        }

        @Test
        void handlerMayCloseItsOwnSubscription() throws Exception {
            Recorder recorder = new Recorder();
            Subscription[] self = new Subscription[1];
            CountDownLatch subscribed = new CountDownLatch(1);
            self[0] = exchange.subscribe(envelope -> {
                recorder.accept(envelope);
                try {
                    subscribed.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                self[0].close();
            });
            subscribed.countDown();
            for (int i = 0; i < 5; i++) {
                exchange.publish(NS, created("c" + i));
            }
            threads.joinAll();
            assertThat(recorder.events()).containsExactly(created("c0"));
            assertThat(self[0].isClosed()).isTrue();
            assertThatCode(self[0]::close).doesNotThrowAnyException();
        }

        @Test
        void closingTheExchangeClosesEverySubscriptionAndEndsItsThreads() throws Exception {
            Subscription a = exchange.subscribe(new Recorder());
            Subscription b = exchange.subscribe(new Recorder());
            Subscription c = exchange.subscribe(pool, new Recorder());
            exchange.publish(NS, created("x"));

            exchange.close();

            assertThat(List.of(a, b, c)).allMatch(Subscription::isClosed);
            assertThat(exchange.subscriptionCount()).isZero();
            threads.joinAll();
            assertThat(threads.threads).hasSize(2).noneMatch(Thread::isAlive);
            assertThatCode(exchange::close).doesNotThrowAnyException();
        }

        @Test
        void closedExchangeRejectsSubscribersAndDiscardsPublishes() {
            exchange.close();
            assertThatThrownBy(() -> exchange.subscribe(new Recorder()))
                    .isInstanceOf(FailedPreconditionException.class).hasMessageContaining("closed");
            assertThatThrownBy(() -> exchange.subscribe(pool, new Recorder()))
                    .isInstanceOf(FailedPreconditionException.class);
            assertThatCode(() -> exchange.publish(NS, created("late"))).doesNotThrowAnyException();
            assertThatThrownBy(() -> exchange.publish(NS, "bad", created("late")))
                    .isInstanceOf(InvalidArgumentException.class);
        }
    }

    @Nested
    class Bound {
        private Subscription subscription;
        private Recorder recorder;
        private CountDownLatch release;

        private void blockedSubscriberWithBound(int bound) throws InterruptedException {
            exchange.close();
            exchange = EventExchange.builder().threadFactory(threads).queueBound(bound).build();
            recorder = new Recorder();
            CountDownLatch entered = new CountDownLatch(1);
            release = gate();
            subscription = exchange.subscribe(blockingFirst(recorder, entered, release));
            exchange.publish(NS, created("first"));
            assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
        }

        @Test
        void pastTheBoundTheOldestNonCriticalAreDroppedAndCounted() throws Exception {
            blockedSubscriberWithBound(3);
            List<Event> published = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                published.add(created("n" + i));
                if (i == 2) {
                    published.add(exit("e"));
                } else if (i == 5) {
                    published.add(new TaskEvent.Oom("o"));
                } else if (i == 8) {
                    published.add(new TaskEvent.Delete("d", "d", 1, 0, Instant.EPOCH));
                }
            }
            published.forEach(event -> exchange.publish(NS, event));

            assertThat(subscription.dropped()).isEqualTo(7);
            assertThat(subscription.queueDepth()).isEqualTo(3 + 3);

            release.countDown();
            recorder.awaitCount(7);
            assertThat(recorder.events()).containsExactly(
                    created("first"),
                    exit("e"),
                    new TaskEvent.Oom("o"),
                    created("n7"),
                    created("n8"),
                    new TaskEvent.Delete("d", "d", 1, 0, Instant.EPOCH),
                    created("n9"));
        }

        @Test
        void taskExitsAreNeverDroppedEvenFarPastTheBound() throws Exception {
            blockedSubscriberWithBound(1);
            for (int i = 0; i < 500; i++) {
                exchange.publish(NS, exit("c" + i));
                exchange.publish(NS, created("c" + i));
            }
            assertThat(subscription.dropped()).isEqualTo(499);
            assertThat(subscription.queueDepth()).isEqualTo(501);

            release.countDown();
            recorder.awaitCount(502);
            List<Event> exits = recorder.events().stream().filter(e -> e instanceof TaskEvent.Exit).toList();
            assertThat(exits).hasSize(500).first().isEqualTo(exit("c0"));
            assertThat(recorder.events()).last().isEqualTo(created("c499"));
        }

        @Test
        void forwardedExitOfAnUnknownTypeIsAlsoKept() throws Exception {
            blockedSubscriberWithBound(1);
            Envelope foreign = new Envelope(Instant.EPOCH, NS, "/tasks/exit",
                    new UnknownEvent("/tasks/exit", "example.com/Exit", new byte[] {1}));
            exchange.publish(NS, created("a"));
            exchange.forward(foreign);
            exchange.publish(NS, created("b"));
            assertThat(subscription.dropped()).isEqualTo(1);
            release.countDown();
            assertThat(recorder.awaitCount(3).envelopes()).element(1).isSameAs(foreign);
        }

        @Test
        void boundMustBePositive() {
            assertThatThrownBy(() -> EventExchange.builder().queueBound(0))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("queueBound");
        }
    }

    @Nested
    class Validation {
        @ParameterizedTest
        @ValueSource(strings = {"tasks/exit", "/", "//", "/tasks//exit", "/tasks/exit/", "/tasks/ex it",
                "/tasks/-exit", "/tasks/exit_", "/tasks/ex..it", "/tasks/éxit"})
        void malformedTopicIsRejectedByName(String topic) {
            assertThatThrownBy(() -> exchange.publish(NS, topic, created("a")))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"" + topic + "\"");
            assertThatThrownBy(() -> exchange.forward(new Envelope(Instant.EPOCH, NS, topic, created("a"))))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"" + topic + "\"");
        }

        @Test
        void emptyAndOverlongTopicsAreRejected() {
            assertThatThrownBy(() -> exchange.publish(NS, "", created("a")))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("topic must not be empty");
            assertThatThrownBy(() -> exchange.publish(NS, null, created("a")))
                    .isInstanceOf(InvalidArgumentException.class);
            String overlong = "/tasks/" + "a".repeat(77);
            assertThatThrownBy(() -> exchange.publish(NS, overlong, created("a")))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining(overlong);
        }

        @ParameterizedTest
        @ValueSource(strings = {"/a", "/tasks/exec-added", "/snapshot/prepare", "/a.b/c_d/e-f/G9"})
        void wellFormedTopicsAreAccepted(String topic) throws Exception {
            Recorder recorder = new Recorder();
            exchange.subscribe(recorder);
            exchange.publish(NS, topic, created("a"));
            assertThat(recorder.awaitCount(1).topics()).containsExactly(topic);
        }

        @ParameterizedTest
        @ValueSource(strings = {"", "bad ns", "-lead", "trail.", "a/b"})
        void malformedNamespaceIsRejected(String namespace) {
            assertThatThrownBy(() -> exchange.publish(namespace, created("a")))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("namespace");
            assertThatThrownBy(() -> exchange.forward(new Envelope(Instant.EPOCH, namespace, "/tasks/exit", exit("a"))))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("namespace");
        }

        @Test
        void rejectedPublishReachesNoSubscriber() throws Exception {
            Recorder recorder = new Recorder();
            exchange.subscribe(recorder);
            assertThatThrownBy(() -> exchange.publish("no such ns", created("bad")))
                    .isInstanceOf(InvalidArgumentException.class);
            exchange.publish(NS, created("good"));
            recorder.awaitCount(1);
            assertThat(recorder.events()).containsExactly(created("good"));
        }

        @Test
        void builderRejectsBothThreadFactoryAndPrefix() {
            assertThatThrownBy(() -> EventExchange.builder().threadFactory(Thread::new).threadNamePrefix("x").build())
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("threadNamePrefix");
        }

        @Test
        void defaultThreadsAreNamedDaemons() throws Exception {
            try (EventExchange named = EventExchange.builder().threadNamePrefix("my-events").build()) {
                Thread[] seen = new Thread[1];
                Recorder recorder = new Recorder();
                named.subscribe(envelope -> {
                    seen[0] = Thread.currentThread();
                    recorder.accept(envelope);
                });
                named.publish(NS, created("a"));
                recorder.awaitCount(1);
                assertThat(seen[0].getName()).startsWith("my-events-");
                assertThat(seen[0].isDaemon()).isTrue();
            }
        }
    }
}
