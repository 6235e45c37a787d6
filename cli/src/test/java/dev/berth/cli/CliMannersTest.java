package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What a user relies on beyond each command: JSON listings, shell completion, documented exit codes. */
class CliMannersTest {
    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {
    }

    private Result berth(String... args) {
        List<String> all = new ArrayList<>(List.of("--root", dir.resolve("root").toString(), "--state",
                dir.resolve("state").toString()));
        all.addAll(List.of(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(all.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), err.toString());
    }

    @Nested
    class Json {
        @ParameterizedTest
        @ValueSource(strings = {"images", "content", "snapshots", "containers", "tasks", "leases", "namespaces", "network"})
        void everyListingPrintsAJsonArrayWithJsonAfterTheCommand(String command) throws Exception {
            Result r = berth(command, "ls", "--json");

            assertThat(r.code()).as(r.err()).isZero();
            JsonNode rows = new ObjectMapper().readTree(r.out());
            assertThat(rows.isArray()).as(r.out()).isTrue();
        }

        @Test
        void aNamespaceIsListedAsAnObjectKeyedByColumn() throws Exception {
            assertThat(berth("namespaces", "create", "json-demo").code()).isZero();

            JsonNode rows = new ObjectMapper().readTree(berth("--json", "namespaces", "ls").out());

            assertThat(rows).hasSize(1);
            assertThat(rows.get(0).get("name").asText()).isEqualTo("json-demo");
        }
    }

    @Nested
    class OnlyTheNamedCommandIsBuilt {
        @Test
        void theCommandWordIsFoundAfterTheGlobalOptionsAndTheirValues() {
            assertThat(Main.commandWord(new String[] {"--root", "r", "-n", "images", "--json", "ns", "ls"}))
                    .isEqualTo("ns");
            assertThat(Main.named("ns")).isEqualTo(NamespacesCommand.class);
            assertThat(Main.named("i")).isEqualTo(ImagesCommand.class);
            assertThat(Main.named("completion")).as("completion needs every command").isNull();
            assertThat(Main.named("help")).isNull();
            assertThat(Main.commandWord(new String[] {"--json"})).isNull();
        }

        @Test
        void helpAndAnUnknownWordStillSeeEveryCommand() {
            Result help = berth("help");
            assertThat(help.code()).isZero();
            assertThat(help.out()).contains("images").contains("snapshots").contains("network").contains("gc");

            Result unknown = berth("imagez", "ls");
            assertThat(unknown.code()).isEqualTo(2);
            assertThat(unknown.err()).contains("imagez").contains("images");
        }
    }

    @Nested
    class Completion {
        @Test
        void bashCompletionIsGeneratedFromTheCommandModel() {
            Result r = berth("completion", "bash");

            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).contains("complete -F").contains("berth")
                    .contains("images").contains("snapshots").contains("completion")
                    .contains("--json").contains("--namespace");
        }

        @Test
        void anUnknownShellIsAUsageError() {
            Result r = berth("completion", "fish");

            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).contains("unsupported shell \"fish\"");
        }
    }

    @Nested
    class ExitCodes {
        @Test
        void helpDocumentsTheExitCodes() {
            Result r = berth("--help");

            assertThat(r.code()).isZero();
            assertThat(r.out()).contains("Exit codes:").contains("0  success").contains("1  the command failed")
                    .contains("2  invalid command line");
        }

        @Test
        void anUnknownOptionExitsWithTheDocumentedUsageCode() {
            assertThat(berth("images", "ls", "--no-such-option").code()).isEqualTo(2);
        }
    }
}
