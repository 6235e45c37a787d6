package dev.berth.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import dev.berth.api.event.Event;
import dev.berth.api.event.Events;
import dev.berth.api.event.Subscription;
import dev.berth.api.event.TaskEvent;
import dev.berth.api.task.TaskRuntime;
import dev.berth.runtime.TaskRuntimes;
import dev.berth.runtime.internal.proto.events.TaskStart;
import dev.berth.runtime.internal.proto.eventsvc.Envelope;
import dev.berth.runtime.internal.proto.eventsvc.ForwardRequest;

import dev.berth.events.EventExchange;
import dev.berth.runtime.ttrpc.internal.EpollLoop;
import dev.berth.runtime.ttrpc.internal.TtrpcClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The events socket as a shim sees it: a ttrpc Events/Forward call lands as a typed event. */
class EventsForwardTest {
    @TempDir
    Path state;

    @Test
    void forwardedEnvelopeReachesEventsAsTypedEvent() throws Exception {
        List<dev.berth.api.event.Envelope> received = new CopyOnWriteArrayList<>();
        try (EventExchange events = EventExchange.create();
             var subscription = events.subscribe(received::add);
             TaskRuntime runtime = TaskRuntimes.builder().stateDir(state).events(events).build();
             EpollLoop loop = EpollLoop.start("shim-side", 1);
             TtrpcClient shim = TtrpcClient.connect(loop.group(), state.resolve("events.sock"), Map.of(),
                     Duration.ofSeconds(5))) {
            ForwardRequest request = ForwardRequest.newBuilder().setEnvelope(Envelope.newBuilder()
                    .setTimestamp(Timestamp.newBuilder().setSeconds(1_700_000_000))
                    .setNamespace("default")
                    .setTopic("/tasks/start")
                    .setEvent(Any.newBuilder().setTypeUrl("containerd.events.TaskStart")
                            .setValue(TaskStart.newBuilder().setContainerId("c1").setPid(99).build().toByteString())))
                    .build();

            Empty reply = shim.call(ShimRuntime.EVENTS_SERVICE, "Forward", request, Empty.parser(), Duration.ofSeconds(5))
                    .get(5, TimeUnit.SECONDS);

            assertThat(reply).isEqualTo(Empty.getDefaultInstance());
            await().atMost(Duration.ofSeconds(5)).until(() -> !received.isEmpty());
            assertThat(received).singleElement().satisfies(e -> {
                assertThat(e.namespace()).isEqualTo("default");
                assertThat(e.topic()).isEqualTo("/tasks/start");
                assertThat(e.event()).isEqualTo(new TaskEvent.Start("c1", 99));
            });
        }
        assertThat(state.resolve("events.sock")).doesNotExist();
    }

    @Test
    void anEnvelopeSentTwiceByARetryingShimIsAnnouncedOnce() throws Exception {
        List<dev.berth.api.event.Envelope> received = new CopyOnWriteArrayList<>();
        try (EventExchange events = EventExchange.create();
             var subscription = events.subscribe(received::add);
             TaskRuntime runtime = TaskRuntimes.builder().stateDir(state).events(events).build();
             EpollLoop loop = EpollLoop.start("shim-side", 1);
             TtrpcClient shim = TtrpcClient.connect(loop.group(), state.resolve("events.sock"), Map.of(),
                     Duration.ofSeconds(5))) {
            ForwardRequest first = start("c1", 99, 1_700_000_000);
            ForwardRequest later = start("c1", 99, 1_700_000_001);

            for (ForwardRequest r : List.of(first, first, later)) {
                shim.call(ShimRuntime.EVENTS_SERVICE, "Forward", r, Empty.parser(), Duration.ofSeconds(5))
                        .get(5, TimeUnit.SECONDS);
            }

            await().atMost(Duration.ofSeconds(5)).until(() -> received.size() >= 2);
            assertThat(received).extracting(e -> e.timestamp().getEpochSecond())
                    .containsExactly(1_700_000_000L, 1_700_000_001L);
        }
    }

    @Test
    void aSlowlyHandledEventIsRepliedInTimeAndKeepsItsPlaceBeforeTheNext() throws Exception {
        List<dev.berth.api.event.Envelope> received = new CopyOnWriteArrayList<>();
        CountDownLatch journalBusy = new CountDownLatch(1);
        try (EventExchange exchange = EventExchange.create();
             var subscription = exchange.subscribe(received::add);
             Events slowFirst = new StallingEvents(exchange, journalBusy);
             TaskRuntime runtime = TaskRuntimes.builder().stateDir(state).events(slowFirst).build();
             EpollLoop loop = EpollLoop.start("shim-side", 1);
             TtrpcClient shim = TtrpcClient.connect(loop.group(), state.resolve("events.sock"), Map.of(),
                     Duration.ofSeconds(5))) {
            // the shim's own deadline: a reply later than this makes it resend the event after the next one
            shim.call(ShimRuntime.EVENTS_SERVICE, "Forward", start("c1", 99, 1_700_000_000), Empty.parser(),
                    Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
            shim.call(ShimRuntime.EVENTS_SERVICE, "Forward", start("c1", 99, 1_700_000_001), Empty.parser(),
                    Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
            assertThat(received).isEmpty();

            journalBusy.countDown();

            await().atMost(Duration.ofSeconds(10)).until(() -> received.size() >= 2);
            assertThat(received).extracting(e -> e.timestamp().getEpochSecond())
                    .containsExactly(1_700_000_000L, 1_700_000_001L);
        }
    }

    /** Events whose forwarding stalls until released, as when a loaded peer holds the journal's lock. */
    private record StallingEvents(Events delegate, CountDownLatch released) implements Events {
        @Override
        public void publish(String namespace, String topic, Event event) {
            delegate.publish(namespace, topic, event);
        }

        @Override
        public void forward(dev.berth.api.event.Envelope envelope) {
            try {
                released.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            delegate.forward(envelope);
        }

        @Override
        public Subscription subscribe(Consumer<dev.berth.api.event.Envelope> handler, String... filters) {
            return delegate.subscribe(handler, filters);
        }

        @Override
        public Subscription subscribe(Executor executor, Consumer<dev.berth.api.event.Envelope> handler,
                                      String... filters) {
            return delegate.subscribe(executor, handler, filters);
        }

        @Override
        public void close() {
            released.countDown();
        }
    }

    private static ForwardRequest start(String id, int pid, long seconds) {
        return ForwardRequest.newBuilder().setEnvelope(Envelope.newBuilder()
                        .setTimestamp(Timestamp.newBuilder().setSeconds(seconds))
                        .setNamespace("default")
                        .setTopic("/tasks/start")
                        .setEvent(Any.newBuilder().setTypeUrl("containerd.events.TaskStart")
                                .setValue(TaskStart.newBuilder().setContainerId(id).setPid(pid).build().toByteString())))
                .build();
    }
}
