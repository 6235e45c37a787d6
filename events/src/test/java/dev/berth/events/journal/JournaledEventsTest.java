package dev.berth.events.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.event.ContainerEvent;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.TaskEvent;
import dev.berth.events.EventExchange;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two writers on one journal stand for two processes on one state directory: one makes a container, the other
 * serves the shim's events socket and forwards the shim's events about it.
 */
class JournaledEventsTest {
    @TempDir
    Path dir;

    @Test
    void anEventForwardedHereComesAfterWhatAnotherProcessJournaledBeforeIt() throws Exception {
        try (JournaledEvents maker = JournaledEvents.over(EventExchange.create(), EventJournal.open(dir));
             JournaledEvents server = JournaledEvents.over(EventExchange.create(), EventJournal.open(dir))) {
            List<String> seen = new CopyOnWriteArrayList<>();
            server.subscribe(e -> seen.add(e.topic() + " " + id(e)));
            for (int i = 0; i < 50; i++) {
                String id = "c" + i;
                maker.publish("n", "/containers/create", new ContainerEvent.Create(id, "img", "io.containerd.runc.v2"));
                // at once, well within the follower's poll interval
                server.forward(new Envelope(Instant.now(), "n", "/tasks/create",
                        new TaskEvent.Create(id, "/b", List.of(), "", "", "", false, "", 1)));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 100);
            for (int i = 0; i < 50; i++) {
                assertThat(seen.get(2 * i)).isEqualTo("/containers/create c" + i);
                assertThat(seen.get(2 * i + 1)).isEqualTo("/tasks/create c" + i);
            }
        }
    }

    private static String id(Envelope e) {
        return e.event() instanceof ContainerEvent c ? c.id() : ((TaskEvent) e.event()).containerId();
    }
}
