package dev.berth.junit.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class WaitPausesTest {
    private static final long MS = 1_000_000;

    @Nested
    class ACheapStrategy {
        @Test
        void isCheckedEveryMillisecondDuringItsFirst50Ms() {
            WaitPauses p = new WaitPauses(Duration.ofMillis(5), true);
            assertThat(p.next(0)).isEqualTo(1);
            assertThat(p.next(20 * MS)).isEqualTo(1);
            assertThat(p.next(49 * MS)).isEqualTo(1);
        }

        @Test
        void thenAtItsOwnInterval() {
            WaitPauses p = new WaitPauses(Duration.ofMillis(5), true);
            p.next(0);
            assertThat(p.next(50 * MS)).isEqualTo(5);
            assertThat(p.next(60 * MS)).isEqualTo(5);
        }

        @Test
        void withFastPausesOffIsCheckedAtItsIntervalFromTheStart() {
            WaitPauses p = new WaitPauses(Duration.ofMillis(5), false);
            assertThat(p.next(0)).isEqualTo(5);
            assertThat(p.next(MS)).isEqualTo(5);
        }

        @Test
        void theSystemPropertyTurnsFastPausesOff() {
            System.setProperty(WaitPauses.FAST_PROPERTY, "false");
            try {
                assertThat(WaitPauses.forInterval(Duration.ofMillis(5)).next(0)).isEqualTo(5);
            } finally {
                System.clearProperty(WaitPauses.FAST_PROPERTY);
            }
            assertThat(WaitPauses.forInterval(Duration.ofMillis(5)).next(0)).isEqualTo(1);
        }
    }

    @Test
    void aCostlyStrategyStartsAt20MsAndDoublesUpToItsInterval() {
        WaitPauses p = new WaitPauses(Duration.ofMillis(100), true);
        assertThat(p.next(0)).isEqualTo(20);
        assertThat(p.next(20 * MS)).isEqualTo(40);
        assertThat(p.next(60 * MS)).isEqualTo(80);
        assertThat(p.next(140 * MS)).isEqualTo(100);
        assertThat(p.next(240 * MS)).isEqualTo(100);
    }
}
