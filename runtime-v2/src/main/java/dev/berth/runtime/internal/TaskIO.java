package dev.berth.runtime.internal;

import dev.berth.api.task.Stdio;
import dev.berth.sys.Syscalls;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stdio of one task: the strings handed to the shim ({@code stdin}/{@code stdout}/{@code stderr}:
 * FIFO paths, a {@code file://} URI, or empty for /dev/null) and the pumps behind the FIFOs, which live in
 * {@code <state>/fifo/<ns>/<id>/}.
 */
public final class TaskIO implements AutoCloseable {
    private final Path dir;
    private final String stdin;
    private final String stdout;
    private final String stderr;
    private final List<FifoPump> readers;
    private final FifoPump writer;
    private final Stdio stdio;
    /** For {@link #reattach}: the sinks of stdout and stderr (null where that FIFO is missing); else empty. */
    private final List<RedirectableOutput> sinks;

    private TaskIO(Path dir, Stdio stdio, String stdin, String stdout, String stderr, List<FifoPump> readers,
                   FifoPump writer) {
        this(dir, stdio, stdin, stdout, stderr, readers, writer, List.of());
    }

    private TaskIO(Path dir, Stdio stdio, String stdin, String stdout, String stderr, List<FifoPump> readers,
                   FifoPump writer, List<RedirectableOutput> sinks) {
        this.dir = dir;
        this.stdio = stdio;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.readers = readers;
        this.writer = writer;
        this.sinks = sinks;
    }

    /** Creates the FIFOs {@code stdio} needs under {@code fifoDir}; pumps start later. */
    public static TaskIO create(Path fifoDir, Stdio stdio, boolean terminal, Runnable afterInput) throws IOException {
        if (stdio.file().isPresent()) {
            String uri = stdio.file().get().toUri().toString();
            return new TaskIO(null, stdio, "", uri, terminal ? "" : uri, List.of(), null);
        }
        boolean anyStream = stdio.stdin().isPresent() || stdio.stdout().isPresent()
                || (!terminal && stdio.stderr().isPresent());
        if (!anyStream) {
            return new TaskIO(null, stdio, "", "", "", List.of(), null);
        }
        Files.createDirectories(fifoDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        String in = "";
        String out = "";
        String err = "";
        List<FifoPump> readers = new ArrayList<>();
        FifoPump writer = null;
        try {
            if (stdio.stdin().isPresent()) {
                Path p = fifoDir.resolve("stdin");
                Syscalls.get().mkfifo(p, 0700);
                in = p.toString();
                writer = FifoPump.writer(p, stdio.stdin().get(), afterInput);
            }
            // The runc shim opens stdout and stderr whenever any stream is connected: always give it both,
            // discarding what the caller did not ask for.
            Path outFifo = fifoDir.resolve("stdout");
            Syscalls.get().mkfifo(outFifo, 0700);
            out = outFifo.toString();
            readers.add(FifoPump.reader(outFifo, stdio.stdout().orElse(OutputStream.nullOutputStream())));
            if (!terminal) {
                Path errFifo = fifoDir.resolve("stderr");
                Syscalls.get().mkfifo(errFifo, 0700);
                err = errFifo.toString();
                readers.add(FifoPump.reader(errFifo, stdio.stderr().orElse(OutputStream.nullOutputStream())));
            }
        } catch (IOException | RuntimeException e) {
            Bundle.removeRecursively(fifoDir);
            throw e;
        }
        return new TaskIO(fifoDir, stdio, in, out, err, List.copyOf(readers), writer);
    }

    /**
     * The output side of a task a previous runtime created with streamed stdio: drains the {@code stdout}
     * and {@code stderr} FIFOs {@link #create} made in {@code fifoDir} (the shim still writes to them, and
     * blocks the container once they are full) into the loggers {@code <loggerName>.stdout} and
     * {@code .stderr}, line by line at INFO, until {@link #redirect}ed. Empty if there is no stdout FIFO
     * (the task's output went to /dev/null or a file). Pumps start with {@link #startReaders}.
     */
    public static Optional<TaskIO> reattach(Path fifoDir, String loggerName) {
        Logger out = LoggerFactory.getLogger(loggerName + ".stdout");
        Logger err = LoggerFactory.getLogger(loggerName + ".stderr");
        return reattach(fifoDir, out::info, err::info);
    }

    static Optional<TaskIO> reattach(Path fifoDir, Consumer<String> stdoutLines,
                                               Consumer<String> stderrLines) {
        Path outFifo = fifoDir.resolve("stdout");
        if (!Files.exists(outFifo, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        List<FifoPump> readers = new ArrayList<>();
        List<RedirectableOutput> sinks = new ArrayList<>();
        RedirectableOutput out = new RedirectableOutput("stdout of " + fifoDir, stdoutLines);
        readers.add(FifoPump.readerOfExisting(outFifo, out));
        sinks.add(out);
        Path errFifo = fifoDir.resolve("stderr");
        String err = "";
        if (Files.exists(errFifo, LinkOption.NOFOLLOW_LINKS)) {
            RedirectableOutput errSink = new RedirectableOutput("stderr of " + fifoDir, stderrLines);
            readers.add(FifoPump.readerOfExisting(errFifo, errSink));
            sinks.add(errSink);
            err = errFifo.toString();
        } else {
            sinks.add(null);
        }
        // The stdin FIFO is left alone: what the shim already read from it cannot be known.
        return Optional.of(new TaskIO(fifoDir, Stdio.nullIO(), "", outFifo.toString(), err,
                List.copyOf(readers), null, Collections.unmodifiableList(sinks)));
    }

    /** Whether this drains the FIFOs of a task found again ({@link #reattach}), so output can be redirected. */
    public boolean reattached() {
        return !sinks.isEmpty();
    }

    /**
     * Sends the drained output to {@code out} and {@code err} from the next line on; null sends that stream
     * back to the log. Only for {@link #reattach}ed output.
     */
    public void redirect(OutputStream out, OutputStream err) {
        if (!reattached()) {
            throw new IllegalStateException("not reattached output");
        }
        sinks.get(0).redirect(out);
        if (sinks.get(1) != null) {
            sinks.get(1).redirect(err);
        }
    }

    public String stdin() {
        return stdin;
    }

    public String stdout() {
        return stdout;
    }

    public String stderr() {
        return stderr;
    }

    /** Starts the output pumps; must happen before the shim's Create, which waits for readers. */
    public void startReaders(Executor io) {
        readers.forEach(io::execute);
    }

    /** Starts feeding stdin; after the shim's Create, which opens the reading end. */
    public void startWriter(Executor io) {
        if (writer != null) {
            io.execute(writer);
        }
    }

    /** Stops feeding stdin and closes this side of the stdin FIFO (the caller's stream is left alone). */
    public void closeStdin() {
        if (writer != null) {
            writer.cancel();
        }
    }

    /** Completes once every output FIFO has reached EOF (all output delivered). */
    public CompletableFuture<Void> drained() {
        return CompletableFuture.allOf(readers.stream().map(FifoPump::done).toArray(CompletableFuture[]::new));
    }

    /** Releases every pump still running and removes the FIFOs. Idempotent. */
    @Override
    public void close() throws IOException {
        detach();
        if (dir != null) {
            Bundle.removeRecursively(dir);
        }
    }

    /**
     * Releases every pump still running (closing this side of the FIFOs) but keeps the FIFOs, so that the
     * next runtime can drain a task that outlives this one. Idempotent.
     */
    public void detach() {
        for (FifoPump reader : readers) {
            reader.cancel();
        }
        if (writer != null) {
            writer.cancel();
        }
        stdio.stdout().ifPresent(TaskIO::flushQuietly);
        stdio.stderr().ifPresent(TaskIO::flushQuietly);
        for (RedirectableOutput sink : sinks) {
            if (sink != null) {
                sink.close();
            }
        }
    }

    private static void flushQuietly(java.io.OutputStream out) {
        try {
            out.flush();
        } catch (IOException ignored) {
            // the caller's stream is gone; nothing to deliver to
        }
    }
}
