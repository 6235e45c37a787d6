package dev.berth.cri.internal.streaming;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class StreamingPiecesTest {

    @Nested
    class OneTimeTokens {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");
        private final Clock clock = new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now;
            }
        };
        private final StreamRequest request = new StreamRequest.PortForward("pod", List.of(80));

        @Test
        void aTokenIsRedeemedOnceOnly() {
            Tokens tokens = new Tokens(Duration.ofMinutes(1), clock);
            String t = tokens.issue(request);
            assertThat(t).matches("[A-Za-z0-9_-]{24}");
            assertThat(tokens.redeem(t)).contains(request);
            assertThat(tokens.redeem(t)).isEmpty();
            assertThat(tokens.redeem("nonsense")).isEmpty();
        }

        @Test
        void aTokenExpiresAfterItsLifetime() {
            Tokens tokens = new Tokens(Duration.ofMinutes(1), clock);
            String early = tokens.issue(request);
            String late = tokens.issue(request);
            now = now.plusSeconds(59);
            assertThat(tokens.redeem(early)).contains(request);
            now = now.plusSeconds(1);
            assertThat(tokens.redeem(late)).isEmpty();
        }

        @Test
        void tokensAreUnguessablyDistinct() {
            Tokens tokens = new Tokens(Duration.ofMinutes(1), clock);
            assertThat(tokens.issue(request)).isNotEqualTo(tokens.issue(request));
        }
    }

    @Nested
    class Stdin {
        @Test
        void bytesComeOutInOrderThenEofAfterCloseWrite() throws IOException {
            StdinPipe p = new StdinPipe(null);
            p.offer(new byte[] {1, 2, 3});
            p.offer(new byte[] {4});
            p.closeWrite();
            assertThat(p.readAllBytes()).containsExactly(1, 2, 3, 4);
            assertThat(p.read()).isEqualTo(-1);
            assertThat(p.offer(new byte[] {5})).isFalse();
        }

        @Test
        void theProducerIsPausedAboveTheHighMarkAndResumedBelowTheLowMark() throws IOException {
            List<Boolean> signals = new CopyOnWriteArrayList<>();
            StdinPipe p = new StdinPipe(signals::add);
            byte[] chunk = new byte[64 << 10];
            for (int i = 0; i < StdinPipe.HIGH / chunk.length; i++) {
                p.offer(chunk);
            }
            assertThat(signals).containsExactly(true);
            p.offer(chunk); // more while paused: no second signal
            assertThat(signals).containsExactly(true);
            byte[] buf = new byte[chunk.length];
            long drained = 0;
            while (signals.size() < 2) {
                drained += p.read(buf, 0, buf.length);
            }
            assertThat(signals).containsExactly(true, false);
            assertThat(StdinPipe.HIGH + chunk.length - drained).isLessThan(StdinPipe.LOW);
        }

        @Test
        void aClosedReaderMakesWritersFail() {
            StdinPipe p = new StdinPipe(null);
            p.close();
            assertThat(p.offer(new byte[] {1})).isFalse();
            assertThatThrownBy(() -> p.put(new byte[] {1})).isInstanceOf(IOException.class);
            assertThatThrownBy(p::read).isInstanceOf(IOException.class);
        }
    }

    @Test
    void aFailureStatusCarriesTheExitCodeAsKubectlReadsIt() {
        var s = ProcessSession.failure("command terminated with non-zero exit code", "NonZeroExitCode", 7);
        assertThat(s.path("status").asText()).isEqualTo("Failure");
        assertThat(s.path("reason").asText()).isEqualTo("NonZeroExitCode");
        assertThat(s.path("details").path("causes").get(0).path("reason").asText()).isEqualTo("ExitCode");
        assertThat(s.path("details").path("causes").get(0).path("message").asText()).isEqualTo("7");
        assertThat(ProcessSession.success().toString()).isEqualTo("{\"metadata\":{},\"status\":\"Success\"}");
    }
}
