package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.TaskEvent;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class EventsCommandTest {
    @Test
    void sinceTakesAnInstantOrAnAge() {
        assertThat(EventsCommand.parseSince("2026-01-02T03:04:05Z")).isEqualTo(Instant.parse("2026-01-02T03:04:05Z"));
        Instant tenMinutesAgo = Instant.now().minus(Duration.ofMinutes(10));
        assertThat(EventsCommand.parseSince("10m")).isBetween(tenMinutesAgo.minusSeconds(5), tenMinutesAgo.plusSeconds(5));
        assertThatThrownBy(() -> EventsCommand.parseSince("yesterday")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("yesterday");
    }

    @Test
    void jsonPrintsOneObjectWithTheEnvelopeAndTheEventFields() throws Exception {
        Envelope e = new Envelope(Instant.parse("2026-01-02T03:04:05Z"), "default", "/tasks/exit",
                new TaskEvent.Exit("web", "web", 42, 137, Instant.parse("2026-01-02T03:04:06Z")));
        String line = EventsCommand.jsonLine(e);
        assertThat(line).doesNotContain("\n");
        JsonNode n = new ObjectMapper().readTree(line);
        assertThat(n.get("timestamp").asText()).isEqualTo("2026-01-02T03:04:05Z");
        assertThat(n.get("namespace").asText()).isEqualTo("default");
        assertThat(n.get("topic").asText()).isEqualTo("/tasks/exit");
        assertThat(n.get("event").get("containerId").asText()).isEqualTo("web");
        assertThat(n.get("event").get("exitStatus").asInt()).isEqualTo(137);
    }
}
