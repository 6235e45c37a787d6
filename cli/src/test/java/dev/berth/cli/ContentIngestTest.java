package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.Berth;
import dev.berth.GcPolicy;
import dev.berth.api.Digest;
import dev.berth.api.Labels;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code berth content ingest}, run in this JVM against a fresh root. */
class ContentIngestTest {
    private static final byte[] DATA = "the same bytes twice".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path root;
    @TempDir
    Path state;

    private String ingest(String ref, String... extra) {
        InputStream stdin = System.in;
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        try {
            System.setIn(new ByteArrayInputStream(DATA));
            java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of("--root", root.toString(),
                    "--state", state.toString(), "-n", "ingest-ns", "content", "ingest", ref));
            all.addAll(java.util.List.of(extra));
            int code = Main.run(all.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
            assertThat(code).as("exit code; stderr: " + err).isZero();
        } finally {
            System.setIn(stdin);
        }
        return out.toString().trim();
    }

    private String gcRootLabel(Digest digest) {
        try (Berth berth = Berth.builder().root(root).stateDir(state).gcPolicy(GcPolicy.manual()).build()) {
            return berth.namespace("ingest-ns").content().info(digest).labels().get(Labels.GC_ROOT);
        }
    }

    @Test
    void ingestOfPresentContentPrintsItsDigestAndLabelsItAsAGcRoot() {
        Digest expected = Digest.sha256(DATA);
        assertThat(ingest("first")).isEqualTo(expected.toString());
        try (Berth berth = Berth.builder().root(root).stateDir(state).gcPolicy(GcPolicy.manual()).build()) {
            var content = berth.namespace("ingest-ns").content();
            content.update(content.info(expected).withLabels(java.util.Map.of()), "labels." + Labels.GC_ROOT);
        }
        assertThat(gcRootLabel(expected)).isNull();

        assertThat(ingest("second")).isEqualTo(expected.toString());
        assertThat(gcRootLabel(expected)).isNotNull();
    }

    @Test
    void ingestWithTheExpectedDigestOfPresentContentPrintsItToo() {
        Digest expected = Digest.sha256(DATA);
        ingest("first");

        assertThat(ingest("again", "--expected-digest", expected.toString())).isEqualTo(expected.toString());
        assertThat(gcRootLabel(expected)).isNotNull();
    }
}
