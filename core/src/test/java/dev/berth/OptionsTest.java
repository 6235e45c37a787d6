package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.ImageEvent;
import dev.berth.events.EventExchange;
import dev.berth.runtime.RuncOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class OptionsTest {

    @Nested
    class Run {
        @Test
        void generatedIdsAreDistinctIdentifiers() {
            String a = RunOptions.builder().build().id();
            String b = RunOptions.builder().build().id();

            assertThat(a).startsWith("run-").isNotEqualTo(b);
            assertThat(dev.berth.api.Identifiers.isValid(a)).isTrue();
        }

        @Test
        void badValuesAreRefusedWhenSet() {
            assertThatThrownBy(() -> RunOptions.builder().id("no spaces")).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> RunOptions.builder().memory(0)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("memory");
            assertThatThrownBy(() -> RunOptions.builder().env("=x")).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> RunOptions.builder().args(List.of())).isInstanceOf(InvalidArgumentException.class);
        }

        @Test
        void containerConfigCarriesRuntimeSnapshotterAndLabels() {
            ContainerConfig c = RunOptions.builder().id("x").snapshotter("native").runtime("io.containerd.runc.v2")
                    .runcOptions(RuncOptions.builder().binaryName("crun").build()).label("a", "b").build()
                    .containerConfig("busybox");

            assertThat(c.id()).isEqualTo("x");
            assertThat(c.image()).contains("busybox");
            assertThat(c.snapshotter()).contains("native");
            assertThat(c.runcOptions().binaryName()).isEqualTo("crun");
            assertThat(c.labels()).containsEntry("a", "b");
        }
    }

    @Test
    void runcOptionsSurviveTheContainerRecord() {
        RuncOptions o = RuncOptions.builder().binaryName("crun").systemdCgroup(true).root(Path.of("/run/x"))
                .ioOwner(1000, 1000).build();

        var runtime = RuncOptionsCodec.encode("io.containerd.runc.v2", o);

        assertThat(RuncOptionsCodec.decode(runtime)).isEqualTo(o);
        assertThat(RuncOptionsCodec.encode("io.containerd.runc.v2", RuncOptions.defaults()).optionsTypeUrl()).isEmpty();
    }

    @Test
    void builderRejectsUnknownSnapshotter() {
        assertThatThrownBy(() -> Berth.builder().snapshotter("zfs")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("zfs");
    }

    @Test
    void namespaceEventsSeeOnlyTheirNamespace() {
        try (EventExchange exchange = EventExchange.create()) {
            ScopedEvents a = new ScopedEvents(exchange, "a");
            List<Envelope> seen = new CopyOnWriteArrayList<>();
            a.subscribe(seen::add);
            a.subscribe(seen::add, "topic==\"/images/delete\"");

            exchange.publish("b", new ImageEvent.Create("in-b", java.util.Map.of()));
            exchange.publish("a", new ImageEvent.Create("in-a", java.util.Map.of()));
            exchange.publish("a", new ImageEvent.Delete("gone"));

            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 3);
            assertThat(seen).extracting(Envelope::namespace).containsOnly("a");
            assertThatThrownBy(() -> a.publish("b", new ImageEvent.Delete("x")))
                    .isInstanceOf(InvalidArgumentException.class);
            a.close();
        }
    }
}
