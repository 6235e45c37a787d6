package dev.berth.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RetryDelayTest {
    private static final Duration BASE = Duration.ofMillis(200);

    @Test
    void delayDoublesPerRetryWithJitterInItsUpperHalf() {
        IntStream.range(0, 50).forEach(i -> {
            assertThat(RegistryHttp.retryDelayMillis(BASE, 0, null)).isBetween(100L, 200L);
            assertThat(RegistryHttp.retryDelayMillis(BASE, 2, null)).isBetween(400L, 800L);
        });
    }

    @Test
    void delayNeverExceedsFiveSecondsOnItsOwn() {
        IntStream.range(0, 50).forEach(i ->
                assertThat(RegistryHttp.retryDelayMillis(BASE, 30, null)).isBetween(2500L, 5000L));
    }

    @Test
    void retryAfterSecondsLengthensTheDelayUpToTenSeconds() {
        assertThat(RegistryHttp.retryDelayMillis(BASE, 0, "3")).isEqualTo(3000L);
        assertThat(RegistryHttp.retryDelayMillis(BASE, 0, " 120 ")).isEqualTo(10_000L);
    }

    @Test
    void retryAfterShorterThanTheBackOffOrAsADateKeepsTheBackOff() {
        assertThat(RegistryHttp.retryDelayMillis(Duration.ofSeconds(2), 0, "1")).isBetween(1000L, 2000L);
        assertThat(RegistryHttp.retryDelayMillis(BASE, 0, "Wed, 21 Oct 2015 07:28:00 GMT")).isBetween(100L, 200L);
        assertThat(RegistryHttp.retryDelayMillis(BASE, 0, "0")).isBetween(100L, 200L);
    }

    @Test
    void onlyTooManyRequestsAndPassingServerErrorsAreTransient() {
        assertThat(IntStream.of(429, 500, 502, 503, 504)).allMatch(RegistryHttp::isTransient);
        assertThat(IntStream.of(400, 401, 403, 404, 405, 413, 416, 501, 505)).noneMatch(RegistryHttp::isTransient);
    }
}
