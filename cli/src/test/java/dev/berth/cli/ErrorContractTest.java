package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.ClosedException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI reports Berth's errors as one line naming the problem, and anything else with its type. */
class ErrorContractTest {
    @TempDir
    Path dir;

    @Test
    void rootUnderAFileFailsWithTheIoFailureOnOneLine() throws IOException {
        Path file = Files.writeString(dir.resolve("not-a-directory"), "x");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = Main.run(new String[] {"--root", file.resolve("root").toString(), "--state",
                dir.resolve("state").toString(), "images", "ls"}, new PrintWriter(out), new PrintWriter(err));

        assertThat(code).isEqualTo(1);
        assertThat(err.toString()).startsWith("berth: cannot create Berth root " + file.resolve("root"))
                .hasLineCount(1);
    }

    @Test
    void closedObjectsAreDescribedByTheirMessageAndBugsByTheirType() {
        assertThat(Main.describe(new ClosedException("Berth root /var/lib/berth")))
                .isEqualTo("Berth root /var/lib/berth is closed");
        assertThat(Main.describe(new IllegalStateException("broken invariant")))
                .isEqualTo("java.lang.IllegalStateException: broken invariant");
    }
}
