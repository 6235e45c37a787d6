package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cli.BerthCommand.Result;
import dev.berth.testing.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/berth images ls} of a root not made yet, as a user runs it: the empty listing, nothing created,
 * and the launcher's class-data archive kept whichever way the script is reached.
 */
class EmptyRootListingIT {
    private static final Path TARGET = BerthCommand.BIN.getParent().getParent().resolve("cli/target");

    private Path dir;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("berth-empty-ls-");
    }

    @AfterEach
    void tearDown() throws IOException {
        TestFiles.deleteTree(dir);
    }


    private static Result run(Path launcher, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        return BerthCommand.finish(p, args);
    }

    @Test
    void listsNothingAndCreatesNeitherRootNorState() throws Exception {
        Path root = dir.resolve("root");
        Path state = dir.resolve("state");

        Result table = run(BerthCommand.BIN, "--root", root.toString(), "--state", state.toString(), "images", "ls");
        Result json = run(BerthCommand.BIN, "--root", root.toString(), "--state", state.toString(), "--json", "i", "list");

        assertThat(table.exitCode()).as(table.stderr()).isZero();
        assertThat(table.stdout()).isEqualTo("REF   TYPE   DIGEST   SIZE   PLATFORM   LABELS\n");
        assertThat(json.exitCode()).as(json.stderr()).isZero();
        assertThat(json.stdout()).isEqualTo("[ ]\n");
        assertThat(root).doesNotExist();
        assertThat(state).doesNotExist();
    }

    @Test
    void aFilterStillGoesTheFullWayAndOpensTheRoot() throws Exception {
        Path root = dir.resolve("root");

        Result r = run(BerthCommand.BIN, "--root", root.toString(), "--state", dir.resolve("state").toString(),
                "images", "ls", "name==busybox");

        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(root.resolve(EmptyRootListing.METADATA_FILE)).exists();
    }

    @Test
    void theLauncherReachedThroughALinkOrADotPathKeepsItsArchive() throws Exception {
        String[] args = {"--root", dir.resolve("root").toString(), "images", "ls"};
        assertThat(run(BerthCommand.BIN, args).exitCode()).isZero(); // the archive is current after this call
        Path archive = TARGET.resolve("berth.jsa");
        assertThat(archive).exists();
        FileTime made = Files.getLastModifiedTime(archive);
        Path link = Files.createSymbolicLink(dir.resolve("berth"), BerthCommand.BIN);
        Path dotted = BerthCommand.BIN.getParent().resolve(".").resolve(BerthCommand.BIN.getFileName());

        Result viaLink = run(link, args);
        Result viaDot = run(dotted, args);

        assertThat(viaLink.exitCode()).as(viaLink.stderr()).isZero();
        assertThat(viaDot.exitCode()).as(viaDot.stderr()).isZero();
        assertThat(viaLink.stdout()).isEqualTo(viaDot.stdout()).startsWith("REF");
        // the class path was spelled as by the canonical call: the archive was neither refused nor rebuilt
        assertThat(Files.getLastModifiedTime(archive)).isEqualTo(made);
        assertThat(viaLink.stderr()).isEmpty();
    }
}
