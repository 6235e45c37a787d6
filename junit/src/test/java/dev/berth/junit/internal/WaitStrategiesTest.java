package dev.berth.junit.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.junit.Wait;
import dev.berth.junit.WaitStrategy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class WaitStrategiesTest {

    @Test
    void checksThatReadMemoryOrProcArePolledEveryFewMilliseconds() {
        assertThat(Wait.forListeningPort().pollInterval()).isEqualTo(Duration.ofMillis(5));
        assertThat(Wait.forLogMessage("ready", 2).pollInterval()).isEqualTo(Duration.ofMillis(5));
        assertThat(Wait.forExitCode(0).pollInterval()).isEqualTo(Duration.ofMillis(5));
    }

    @Test
    void aHealthCommandStartsAProcessSoItIsPolledAtMostEveryHundredMilliseconds() {
        assertThat(Wait.forHealthCommand("true").pollInterval()).isEqualTo(Duration.ofMillis(100));
        assertThat(Wait.forHttp("/").pollInterval()).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void aCompositionIsPolledAsOftenAsItsCostliestMemberAllows() {
        WaitStrategy cheap = Wait.allOf(Wait.forLogMessage("ready", 1), Wait.forListeningPort());
        WaitStrategy mixed = Wait.allOf(Wait.forListeningPort(), Wait.forHealthCommand("true"));

        assertThat(cheap.pollInterval()).isEqualTo(Duration.ofMillis(5));
        assertThat(mixed.pollInterval()).isEqualTo(Duration.ofMillis(100));
    }
}
