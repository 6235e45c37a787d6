package dev.berth.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
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
