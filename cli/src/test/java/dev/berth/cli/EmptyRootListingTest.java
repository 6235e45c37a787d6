package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.Berth;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code images ls} answered without opening a root that has no metadata database ({@link EmptyRootListing}). */
class EmptyRootListingTest {
    @TempDir
    Path dir;

    private static String answered(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        boolean done = EmptyRootListing.answer(args, env, new PrintWriter(out));
        return done ? out.toString() : null;
    }

    /** What the full command (picocli, the opened root) prints for {@code args}. */
    private static String fullPath(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        assertThat(code).as(err.toString()).isZero();
        return out.toString();
    }

    @Nested
    class OnARootWithoutMetadata {
        @ParameterizedTest
        @ValueSource(strings = {"", "-q", "--json", "--json -q", "--quiet"})
        void printsWhatTheFullCommandPrintsOnANewRootAndCreatesNothing(String flags) {
            Path missing = dir.resolve("missing");
            Path fresh = dir.resolve("fresh");
            String[] tail = flags.isEmpty() ? new String[0] : flags.split(" ");

            String quick = answered(Map.of(), Stream.concat(Stream.of("--root", missing.toString(), "--state",
                    dir.resolve("s1").toString(), "images", "ls"), Stream.of(tail)).toArray(String[]::new));
            String full = fullPath(Stream.concat(Stream.of("--root", fresh.toString(), "--state",
                    dir.resolve("s2").toString(), "images", "ls"), Stream.of(tail)).toArray(String[]::new));

            assertThat(quick).isNotNull().isEqualTo(full);
            assertThat(missing).doesNotExist();
            assertThat(dir.resolve("s1")).doesNotExist();
            assertThat(fresh.resolve(EmptyRootListing.METADATA_FILE)).exists();
        }

        @Test
        void anEmptyDirectoryIsListedEmptyAndLeftEmpty() throws Exception {
            Path root = Files.createDirectories(dir.resolve("root"));

            assertThat(answered(Map.of(), "--root=" + root, "i", "list", "--json")).isEqualTo("[ ]" + System.lineSeparator());
            try (Stream<Path> entries = Files.list(root)) {
                assertThat(entries).isEmpty();
            }
        }

        @Test
        void globalOptionsMayFollowTheCommandAsPicocliAllows() {
            Path missing = dir.resolve("missing");

            assertThat(answered(Map.of(), "images", "ls", "--root", missing.toString(), "-n", "other", "--json"))
                    .isEqualTo("[ ]" + System.lineSeparator());
        }
    }

    @Nested
    class GoesTheFullWay {
        @Test
        void whenTheRootHasAMetadataDatabase() throws Exception {
            Path root = dir.resolve("root");
            fullPath("--root", root.toString(), "--state", dir.resolve("s").toString(), "images", "ls");

            assertThat(answered(Map.of(), "--root", root.toString(), "images", "ls")).isNull();
        }

        @Test
        void whenTheRootIsNotADirectory() throws Exception {
            Path file = Files.writeString(dir.resolve("file"), "x");

            assertThat(answered(Map.of(), "--root", file.toString(), "images", "ls")).isNull();
        }

        @ParameterizedTest
        @ValueSource(strings = {
            "images ls name==busybox", // filters are validated by the library
            "images ls --help",
            "-h images ls",
            "images ls -q -q",
            "--json images ls --json",
            "--json=true images ls",
            "images ls -n",
            "-n bad! images ls",
            "--namespace= images ls",
            "--state a --state b images ls",
            "-q images ls",
            "ls images",
            "images",
            "images rm x",
            "images ls extra",
            "content ls",
        })
        void forEveryOtherCommandLine(String line) {
            String[] args = Stream.concat(Stream.of("--root", dir.resolve("missing").toString()),
                    Stream.of(line.split(" "))).toArray(String[]::new);

            assertThat(answered(Map.of(), args)).as(line).isNull();
        }

        @Test
        void whenTheRootIsGivenTwice() {
            assertThat(answered(Map.of(), "--root", dir.resolve("a").toString(), "--root", dir.resolve("b").toString(),
                    "images", "ls")).isNull();
        }

        @Test
        void whenBerthNamespaceNamesAnInvalidNamespace() {
            String[] args = {"--root", dir.resolve("missing").toString(), "images", "ls"};

            assertThat(answered(Map.of("BERTH_NAMESPACE", "no/slash"), args)).isNull();
            assertThat(answered(Map.of("BERTH_NAMESPACE", "ok"), args)).isNotNull();
        }

        @Test
        void whenSwitchedOff() {
            System.setProperty(EmptyRootListing.PROPERTY, "false");
            try {
                assertThat(answered(Map.of(), "--root", dir.resolve("missing").toString(), "images", "ls")).isNull();
            } finally {
                System.clearProperty(EmptyRootListing.PROPERTY);
            }
        }
    }

    @Test
    void theDefaultRootIsTheLibrarys() {
        assertThat(Path.of(EmptyRootListing.DEFAULT_ROOT)).isEqualTo(Berth.DEFAULT_ROOT);
        assertThat(EmptyRootListing.parse(new String[] {"images", "ls"}, Map.of()).root()).isEqualTo(Berth.DEFAULT_ROOT);
        assertThat(EmptyRootListing.parse(new String[] {"images", "ls"}, Map.of()).namespace()).isEqualTo("default");
    }

    @Test
    void theTestRunsAsRootAsTheListingRequires() {
        // a caller that is not root goes the full way (NonRootIT asserts the library's message for it)
        assertThat(EmptyRootListing.effectiveUid()).isZero();
    }
}
