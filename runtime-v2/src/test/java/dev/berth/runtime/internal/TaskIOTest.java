package dev.berth.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.runtime.Stdio;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The FIFO side of stdio, with this test playing the shim. */
class TaskIOTest {
    @TempDir
    Path dir;

    private final ExecutorService io = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        io.shutdownNow();
    }

    @Test
    void nullStdioUsesNoFifos() throws Exception {
        try (TaskIO taskIO = TaskIO.create(dir.resolve("fifo"), Stdio.nullIO(), false, () -> { })) {
            assertThat(taskIO.stdin()).isEmpty();
            assertThat(taskIO.stdout()).isEmpty();
            assertThat(taskIO.stderr()).isEmpty();
            assertThat(taskIO.drained()).isDone();
            assertThat(dir.resolve("fifo")).doesNotExist();
        }
    }

    @Test
    void fileStdioIsAFileUriForBothStreams() throws Exception {
        Path log = dir.resolve("my log.txt");
        try (TaskIO taskIO = TaskIO.create(dir.resolve("fifo"), Stdio.file(log), false, () -> { })) {
            assertThat(taskIO.stdout()).isEqualTo(log.toUri().toString()).startsWith("file:///");
            assertThat(taskIO.stderr()).isEqualTo(taskIO.stdout());
            assertThat(taskIO.stdin()).isEmpty();
        }
    }

    @Test
    void outputIsDeliveredUntilEofBeforeDrainedCompletes() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TaskIO taskIO = TaskIO.create(dir.resolve("fifo"), Stdio.of(null, out, null), false, () -> { });
        taskIO.startReaders(io);
        // Like the shim: the stderr FIFO exists even though the caller wants no stderr.
        assertThat(taskIO.stderr()).isNotEmpty();
        try (OutputStream shimSide = Files.newOutputStream(Path.of(taskIO.stdout()));
             OutputStream shimErr = Files.newOutputStream(Path.of(taskIO.stderr()))) {
            for (int i = 0; i < 1000; i++) {
                shimSide.write(("line " + i + "\n").getBytes(StandardCharsets.UTF_8));
            }
            shimErr.write("ignored".getBytes(StandardCharsets.UTF_8));
            assertThat(taskIO.drained()).isNotDone();
        }

        taskIO.drained().get(5, TimeUnit.SECONDS);

        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).startsWith("line 0\n").endsWith("line 999\n");
        assertThat(text.lines()).hasSize(1000);
        taskIO.close();
        assertThat(dir.resolve("fifo")).doesNotExist();
    }

    @Test
    void stdinIsWrittenThenTheCallbackRuns() throws Exception {
        CountDownLatch inputDone = new CountDownLatch(1);
        TaskIO taskIO = TaskIO.create(dir.resolve("fifo"), Stdio.of(new ByteArrayInputStream("hello".getBytes()),
                null, null), false, inputDone::countDown);
        taskIO.startReaders(io);
        taskIO.startWriter(io);

        byte[] read = Files.readAllBytes(Path.of(taskIO.stdin()));

        assertThat(new String(read, StandardCharsets.UTF_8)).isEqualTo("hello");
        assertThat(inputDone.await(5, TimeUnit.SECONDS)).isTrue();
        taskIO.close();
    }

    @Test
    void closeReleasesPumpsWhoseShimNeverOpenedTheFifos() throws Exception {
        TaskIO taskIO = TaskIO.create(dir.resolve("fifo"), Stdio.of(null, new ByteArrayOutputStream(),
                new ByteArrayOutputStream()), false, () -> { });
        taskIO.startReaders(io);
        Thread.sleep(50);

        taskIO.close();

        assertThat(taskIO.drained()).isDone();
    }
}
