package dev.berth.content;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class IngestTimestampsTest {
    @Test
    void formatsLikeGosMarshalTextDroppingTrailingZeros() {
        assertThat(IngestTimestamps.format(Instant.parse("2024-05-01T12:34:56.123456789Z")))
                .isEqualTo("2024-05-01T12:34:56.123456789Z");
        assertThat(IngestTimestamps.format(Instant.parse("2024-05-01T12:34:56.120Z")))
                .isEqualTo("2024-05-01T12:34:56.12Z");
        assertThat(IngestTimestamps.format(Instant.parse("2024-05-01T12:34:56Z")))
                .isEqualTo("2024-05-01T12:34:56Z");
    }

    @Test
    void parsesWhatContainerdWritesInLocalTime() {
        assertThat(IngestTimestamps.parse("2024-05-01T14:34:56.5+02:00"))
                .isEqualTo(Instant.parse("2024-05-01T12:34:56.5Z"));
        Instant now = Instant.now();
        assertThat(IngestTimestamps.parse(IngestTimestamps.format(now))).isEqualTo(now);
    }
}
