package dev.berth.api.task;

import java.time.Instant;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * How a task's process ended, as its shim reports it: the exit code, or {@code 128 + signal} for a
 * process killed by a signal (SIGTERM gives 143, SIGKILL 137), and when.
 */
public record ExitStatus(int code, Instant exitedAt) {
    public ExitStatus {
        Objects.requireNonNull(exitedAt, "exitedAt");
    }

    /** Whether the process exited normally with code 0. */
    public boolean success() {
        return code == 0;
    }

    /** The signal that killed the process, if {@code code} is in 129..192 (128 + a signal number). */
    public OptionalInt signal() {
        return code > 128 && code <= 128 + 64 ? OptionalInt.of(code - 128) : OptionalInt.empty();
    }
}
