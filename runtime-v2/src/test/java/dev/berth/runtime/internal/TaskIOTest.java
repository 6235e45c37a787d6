package dev.berth.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.task.Stdio;
import dev.berth.sys.Syscalls;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
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

    @Test
    void detachKeepsTheFifosForTheNextRuntime() throws Exception {
        TaskIO taskIO = TaskIO.create(dir.resolve("fifo"), Stdio.of(null, new ByteArrayOutputStream(), null), false,
                () -> { });
        taskIO.startReaders(io);

        taskIO.detach();

        assertThat(taskIO.drained()).isDone();
        assertThat(dir.resolve("fifo").resolve("stdout")).exists();
        assertThat(dir.resolve("fifo").resolve("stderr")).exists();
    }

    @Test
    void reattachWithoutFifosIsEmpty() {
        assertThat(TaskIO.reattach(dir.resolve("fifo"), "test")).isEmpty();
    }

    @Test
    void reattachedOutputIsLoggedLineByLineAndTheFirstRedirectGetsItFromTheReconnectOn() throws Exception {
        Path fifos = Files.createDirectories(dir.resolve("fifo"));
        Syscalls.get().mkfifo(fifos.resolve("stdout"), 0700);
        Syscalls.get().mkfifo(fifos.resolve("stderr"), 0700);
        List<String> outLog = new CopyOnWriteArrayList<>();
        List<String> errLog = new CopyOnWriteArrayList<>();
        // Like the shim, which keeps writing after the previous reader died.
        try (OutputStream shimOut = shimEnd(fifos.resolve("stdout"));
             OutputStream shimErr = shimEnd(fifos.resolve("stderr"))) {
            shimOut.write("before\r\nhalf a ".getBytes(StandardCharsets.UTF_8));
            shimErr.write("oops\n".getBytes(StandardCharsets.UTF_8));
            TaskIO taskIO = TaskIO.reattach(fifos, outLog::add, errLog::add).orElseThrow();
            taskIO.startReaders(io);
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> outLog.size() == 1 && errLog.size() == 1);
            ByteArrayOutputStream attached = new ByteArrayOutputStream();

            // what the FIFO held when the runtime came back is not lost to the log: the attach gets it first
            taskIO.redirect(attached, null);
            shimOut.write("line\nafter\n".getBytes(StandardCharsets.UTF_8));
            shimOut.flush();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> attached.toString(StandardCharsets.UTF_8).equals("before\r\nhalf a line\nafter\n"));
            shimErr.write("still logged\n".getBytes(StandardCharsets.UTF_8));
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> errLog.size() == 2);

            assertThat(outLog).containsExactly("before");
            assertThat(errLog).containsExactly("oops", "still logged");
            taskIO.close();
            assertThat(taskIO.drained()).isDone();
            assertThat(fifos).doesNotExist();
            assertThat(outLog).as("the partial line the attach took is not logged at the end").containsExactly("before");
        }
    }

    @Test
    void onlyTheFirstRedirectReplaysAndLaterOnesStartAtALineBoundary() {
        List<String> lines = new CopyOnWriteArrayList<>();
        RedirectableOutput sink = new RedirectableOutput("stdout of test", lines::add);
        ByteArrayOutputStream first = new ByteArrayOutputStream();
        ByteArrayOutputStream second = new ByteArrayOutputStream();
        sink.write(bytes("one\n"), 0, 4);
        sink.redirect(first);
        sink.write(bytes("two\n"), 0, 4);
        sink.redirect(null);
        sink.write(bytes("three\nfo"), 0, 8);

        sink.redirect(second);
        sink.write(bytes("ur\nfive\n"), 0, 8);

        assertThat(first.toString(StandardCharsets.UTF_8)).isEqualTo("one\ntwo\n");
        assertThat(second.toString(StandardCharsets.UTF_8)).isEqualTo("five\n");
        assertThat(lines).containsExactly("one", "three", "four");
    }

    @Test
    void outputBeyondTheEarlyBoundIsNotReplayedAndTheRedirectWaitsForTheLineEnd() {
        List<String> lines = new CopyOnWriteArrayList<>();
        RedirectableOutput sink = new RedirectableOutput("stdout of test", lines::add);
        byte[] line = bytes("x".repeat(1023) + "\n");
        for (int i = 0; i < RedirectableOutput.EARLY_LIMIT / line.length + 1; i++) {
            sink.write(line, 0, line.length);
        }
        sink.write(bytes("par"), 0, 3);
        ByteArrayOutputStream attached = new ByteArrayOutputStream();

        sink.redirect(attached);
        sink.write(bytes("tial\nnext\n"), 0, 10);

        assertThat(attached.toString(StandardCharsets.UTF_8)).isEqualTo("next\n");
        assertThat(lines).hasSize(RedirectableOutput.EARLY_LIMIT / line.length + 2).endsWith("partial");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The shim's side: it holds a read end too, so its writes never fail for want of a reader. */
    private static OutputStream shimEnd(Path fifo) throws java.io.IOException {
        return java.nio.channels.Channels.newOutputStream(java.nio.channels.FileChannel.open(fifo,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE));
    }

    @Test
    void aLineLongerThanTheBoundIsLoggedInPieces() {
        List<String> lines = new CopyOnWriteArrayList<>();
        LineSplitter splitter = new LineSplitter(lines::add, 4);

        splitter.write("abcdefghij\nk".getBytes(StandardCharsets.UTF_8), 0, 12);
        splitter.close();

        assertThat(lines).containsExactly("abcd", "efgh", "ij", "k");
    }

    @Test
    void aFailingAttachedStreamFallsBackToTheLog() {
        List<String> lines = new CopyOnWriteArrayList<>();
        RedirectableOutput sink = new RedirectableOutput("stdout of test", lines::add);
        sink.redirect(new OutputStream() {
            @Override
            public void write(int b) throws java.io.IOException {
                throw new java.io.IOException("closed by the caller");
            }
        });

        sink.write("kept\n".getBytes(StandardCharsets.UTF_8), 0, 5);

        assertThat(lines).containsExactly("kept");
    }

    @Test
    void reattachToAFifoWhoseWriterIsGoneDrainsWhatIsLeftAndEnds() throws Exception {
        Path fifos = Files.createDirectories(dir.resolve("fifo"));
        Syscalls.get().mkfifo(fifos.resolve("stdout"), 0700);
        List<String> outLog = new CopyOnWriteArrayList<>();
        TaskIO taskIO = TaskIO.reattach(fifos, outLog::add, line -> { }).orElseThrow();
        assertThat(taskIO.stderr()).as("a terminal task has no stderr FIFO").isEmpty();

        taskIO.startReaders(io);

        taskIO.drained().get(5, TimeUnit.SECONDS);
        assertThat(outLog).isEmpty();
        taskIO.close();
    }
}
