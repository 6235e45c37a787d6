package dev.berth.api.task;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * What a finished process left: all of stdout and stderr, byte for byte, and the exit code.
 * {@link #stdout()} and {@link #stderr()} decode the bytes as UTF-8 for text output; binary output is read
 * with {@link #stdoutBytes()} and {@link #stderrBytes()}, which return copies. Immutable; equal when exit
 * code and bytes are.
 */
public final class RunResult {
    private final byte[] stdout;
    private final byte[] stderr;
    private final int exitCode;

    /** The bytes as captured; the arrays are copied. */
    public RunResult(byte[] stdout, byte[] stderr, int exitCode) {
        this.stdout = Objects.requireNonNull(stdout, "stdout").clone();
        this.stderr = Objects.requireNonNull(stderr, "stderr").clone();
        this.exitCode = exitCode;
    }

    /** Text output, encoded as UTF-8 (for expected values in tests). */
    public RunResult(String stdout, String stderr, int exitCode) {
        this(stdout.getBytes(StandardCharsets.UTF_8), stderr.getBytes(StandardCharsets.UTF_8), exitCode);
    }

    /** stdout decoded as UTF-8 (malformed bytes become U+FFFD: use {@link #stdoutBytes()} for binary output). */
    public String stdout() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    /** stderr decoded as UTF-8. */
    public String stderr() {
        return new String(stderr, StandardCharsets.UTF_8);
    }

    /** A copy of stdout's bytes. */
    public byte[] stdoutBytes() {
        return stdout.clone();
    }

    /** A copy of stderr's bytes. */
    public byte[] stderrBytes() {
        return stderr.clone();
    }

    public int exitCode() {
        return exitCode;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RunResult r && r.exitCode == exitCode && Arrays.equals(r.stdout, stdout)
                && Arrays.equals(r.stderr, stderr);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(stdout) + Arrays.hashCode(stderr)) + exitCode;
    }

    @Override
    public String toString() {
        return "RunResult[exitCode=" + exitCode + ", stdout=" + abbreviated(stdout) + ", stderr=" + abbreviated(stderr)
                + "]";
    }

    private static String abbreviated(byte[] b) {
        String s = new String(b, 0, Math.min(b.length, 200), StandardCharsets.UTF_8);
        return b.length > 200 ? "\"" + s + "\"... (" + b.length + " bytes)" : "\"" + s + "\"";
    }
}
