package dev.berth.api.task;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a task's stdin, stdout and stderr go. For streams, Berth creates FIFOs, hands their paths to the
 * shim and pumps them on its own threads; output streams are flushed but never closed, and all output
 * is delivered before {@link Task#onExit()} completes. A stdin stream is read until its end, after which
 * the task's stdin is closed.
 */
public final class Stdio {
    private final InputStream stdin;
    private final OutputStream stdout;
    private final OutputStream stderr;
    private final Path file;

    private Stdio(InputStream stdin, OutputStream stdout, OutputStream stderr, Path file) {
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.file = file;
    }

    /** No stdin; stdout and stderr discarded by the shim ({@code /dev/null}). */
    public static Stdio nullIO() {
        return new Stdio(null, null, null, null);
    }

    /**
     * stdout and stderr copied to this JVM's {@code System.out} and {@code System.err}. stdin is not
     * connected: a thread stuck reading the JVM's stdin could never be released.
     */
    public static Stdio inherit() {
        return new Stdio(null, System.out, System.err, null);
    }

    /**
     * stdout and stderr appended to {@code file} by the shim itself (containerd's {@code file://} URI), so
     * output keeps flowing while no JVM is attached. No stdin.
     */
    public static Stdio file(Path file) {
        Objects.requireNonNull(file, "file");
        if (!file.isAbsolute()) {
            throw new dev.berth.api.InvalidArgumentException("stdio file must be an absolute path: " + file);
        }
        return new Stdio(null, null, null, file);
    }

    /** The given streams; any may be null to leave that stream unconnected. */
    public static Stdio of(InputStream stdin, OutputStream stdout, OutputStream stderr) {
        return new Stdio(stdin, stdout, stderr, null);
    }

    public Optional<InputStream> stdin() {
        return Optional.ofNullable(stdin);
    }

    public Optional<OutputStream> stdout() {
        return Optional.ofNullable(stdout);
    }

    public Optional<OutputStream> stderr() {
        return Optional.ofNullable(stderr);
    }

    /** The file both output streams are appended to, for {@link #file(Path)}. */
    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }
}
