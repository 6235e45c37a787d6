package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.content.Status;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The transfer display: redrawn rows on a terminal, a line per finished blob otherwise, nothing when quiet. */
class ProgressTest {
    static final String LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
    final StringWriter text = new StringWriter();
    final Descriptor layer = new Descriptor(LAYER, Digest.sha256("layer".getBytes()), 3 * 1024 * 1024);
    final Descriptor config = new Descriptor("application/vnd.oci.image.config.v1+json",
            Digest.sha256("config".getBytes()), 600);

    Progress progress(Progress.Mode mode) {
        return new Progress(new PrintWriter(text), mode);
    }

    private void pull(Progress p) {
        p.blobSkipped(config);
        p.blobStarted(layer, 0);
        p.blobProgress(layer, 1024 * 1024);
        p.blobDone(layer);
        p.blobVerified(layer);
    }

    @Nested
    class Plain {
        @Test
        void printsOneLineForEachFinishedBlobWithItsSizeAndRate() {
            try (Progress p = progress(Progress.Mode.PLAIN)) {
                pull(p);
            }
            List<String> lines = text.toString().lines().toList();
            assertThat(lines).hasSize(2);
            assertThat(lines.get(0)).startsWith("config " + config.digest().hex().substring(0, 12)).contains("exists")
                    .contains("600 B");
            assertThat(lines.get(1)).startsWith("layer " + layer.digest().hex().substring(0, 12)).contains("done")
                    .contains("3.0 MiB / 3.0 MiB").containsPattern("/s +\\d+\\.\\ds$");
            assertThat(text.toString()).doesNotContain("\033");
        }

        @Test
        void anImportsIngestsBecomeRowsThatFinishWhenTheyAreCommitted() {
            Digest blob = Digest.sha256("blob".getBytes());
            Status earlier = new Status("someone-elses", 1, 10, null, Instant.now(), Instant.now());
            AtomicReference<List<Status>> ingests = new AtomicReference<>(List.of(earlier));
            AtomicInteger polls = new AtomicInteger();
            Supplier<List<Status>> poll = () -> {
                polls.incrementAndGet();
                return ingests.get();
            };
            try (Progress p = progress(Progress.Mode.PLAIN)) {
                p.polling(poll, () -> {
                    ingests.set(List.of(earlier, new Status("import-1", 512, 2048, blob, Instant.now(), Instant.now())));
                    int now = polls.get();
                    await().until(() -> polls.get() > now + 1); // the poller saw it being written
                    ingests.set(List.of(earlier)); // committed
                    return null;
                });
            }
            assertThat(text.toString().lines().toList()).singleElement().satisfies(l -> assertThat(l)
                    .startsWith("blob " + blob.hex().substring(0, 12)).contains("done").contains("2.0 KiB / 2.0 KiB"));
        }
    }

    @Nested
    class Terminal {
        @Test
        void redrawsEveryRowInPlaceAndEndsWithTheFinalState() {
            try (Progress p = progress(Progress.Mode.TERMINAL)) {
                p.blobStarted(layer, 0);
                p.blobProgress(layer, 1024 * 1024);
                await().until(() -> text.toString().contains("1.0 MiB / 3.0 MiB"));
                p.blobSkipped(config);
                await().until(() -> text.toString().contains("exists"));
                p.blobDone(layer);
                p.blobVerified(layer);
            }
            String out = text.toString();
            assertThat(out).contains("\r\033[2Klayer ").contains("transferring")
                    .as("moves up over the rows drawn before").contains("\033[2A");
            String last = out.substring(out.lastIndexOf("\033[2A"));
            assertThat(last).contains("done").contains("3.0 MiB / 3.0 MiB").contains("exists");
        }
    }

    @Test
    void quietPrintsNothing() {
        try (Progress p = progress(Progress.Mode.OFF)) {
            pull(p);
            Object row = p.stream("export x.tar");
            p.add(row, 100);
            p.done(row);
        }
        assertThat(text.toString()).isEmpty();
    }

    @Test
    void quietOrJsonTurnsTheDisplayOff() {
        assertThat(Progress.Mode.detect(true)).isEqualTo(Progress.Mode.OFF);
        // the test JVM has no console: plain lines, unless BERTH_PROGRESS says otherwise
        assertThat(Progress.Mode.detect(false)).isEqualTo(System.getenv("BERTH_PROGRESS") == null
                ? Progress.Mode.PLAIN : Progress.Mode.valueOf(System.getenv("BERTH_PROGRESS").toUpperCase()));
    }
}
