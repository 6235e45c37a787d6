package dev.berth.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.event.ContainerEvent;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.ImageEvent;
import dev.berth.api.event.SnapshotEvent;
import dev.berth.api.event.TaskEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** containerd's filter language, parsed by core-api, applied by the exchange to real envelopes. */
class SubscriptionFilterTest {
    private final EventExchange exchange = EventExchange.create();

    @AfterEach
    void close() {
        exchange.close();
    }

    private static final List<Envelope> MIX = List.of(
            new Envelope(Instant.EPOCH, "default", "/tasks/start", new TaskEvent.Start("web", 10)),
            new Envelope(Instant.EPOCH, "other", "/tasks/start", new TaskEvent.Start("db", 11)),
            new Envelope(Instant.EPOCH, "default", "/tasks/exit", new TaskEvent.Exit("web", "web", 10, 0, Instant.EPOCH)),
            new Envelope(Instant.EPOCH, "default", "/containers/create", new ContainerEvent.Create("web", "busybox", "runc")),
            new Envelope(Instant.EPOCH, "default", "/images/create", new ImageEvent.Create("busybox", Map.of("app", "web"))),
            new Envelope(Instant.EPOCH, "default", "/snapshot/prepare", new SnapshotEvent.Prepare("k1", "", "overlayfs")),
            new Envelope(Instant.EPOCH, "default", "/snapshot/prepare", new SnapshotEvent.Prepare("k2", "k1", "overlayfs")),
            new Envelope(Instant.EPOCH, "other", "/tasks/exit", new TaskEvent.Exit("db", "db", 11, 1, Instant.EPOCH)));

    private static List<Envelope> mix(int... indexes) {
        return Arrays.stream(indexes).mapToObj(MIX::get).toList();
    }

    @Test
    void topicRegexpAndNamespaceAreAnded() throws Exception {
        assertThat(deliveredThroughAll("topic~=\"/tasks/.*\",namespace==default")).isEqualTo(mix(0, 2));
    }

    @Test
    void eventFieldBySnakeCaseName() throws Exception {
        assertThat(deliveredThroughAll("event.container_id==db")).isEqualTo(mix(1, 7));
        assertThat(deliveredThroughAll("event.containerId==web")).isEqualTo(mix(0, 2));
    }

    @Test
    void severalFilterStringsAreOred() throws Exception {
        assertThat(deliveredThroughAll("topic==\"/tasks/exit\",namespace==other", "topic==\"/containers/create\""))
                .isEqualTo(mix(3, 7));
    }

    @Test
    void bareFieldPathTestsPresence() throws Exception {
        assertThat(deliveredThroughAll("event.parent")).isEqualTo(mix(6));
        assertThat(deliveredThroughAll("event.labels.app")).isEqualTo(mix(4));
    }

    @Test
    void inequalityAndNumericFields() throws Exception {
        assertThat(deliveredThroughAll("topic!=\"/tasks/exit\",namespace==other")).isEqualTo(mix(1));
        assertThat(deliveredThroughAll("event.exit_status==1")).isEqualTo(mix(7));
    }

    @Test
    void quotedLabelValue() throws Exception {
        assertThat(deliveredThroughAll("event.labels.app==\"web\"")).isEqualTo(mix(4));
    }

    @Test
    void malformedFilterIsRejectedAtSubscribe() {
        assertThatThrownBy(() -> exchange.subscribe(new Recorder(), "topic=="))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> exchange.subscribe(new Recorder(), "topic~=\"(\""))
                .isInstanceOf(InvalidArgumentException.class);
        assertThat(exchange.subscriptionCount()).isZero();
    }

    /**
     * Subscribes with {@code filters} ORed with a marker topic, forwards {@link #MIX} and then the marker,
     * and returns what was delivered before the marker: once the marker arrives, every earlier envelope has
     * been delivered or filtered out.
     */
    private List<Envelope> deliveredThroughAll(String... filters) throws InterruptedException {
        Envelope marker = new Envelope(Instant.EPOCH, "default", "/marker", new ContainerEvent.Delete("end"));
        List<Envelope> got = new ArrayList<>();
        CountDownLatch markerSeen = new CountDownLatch(1);
        String[] withMarker = Arrays.copyOf(filters, filters.length + 1);
        withMarker[filters.length] = "topic==\"/marker\"";
        exchange.subscribe(envelope -> {
            if (envelope == marker) {
                markerSeen.countDown();
            } else {
                got.add(envelope);
            }
        }, withMarker);
        MIX.forEach(exchange::forward);
        exchange.forward(marker);
        assertThat(markerSeen.await(30, TimeUnit.SECONDS)).as("marker delivered").isTrue();
        return got;
    }
}
