package dev.berth.runtime;

import dev.berth.api.task.RuncOptions;
import dev.berth.api.task.Stdio;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The task options, one factory per {@link TaskConfig.Builder} setting a task's creator leaves to its
 * caller, named as that setting. Values are checked when the option is applied, by the builder (so the
 * message names the task). Options hold no mutable state and are thread-safe.
 */
public final class TaskOptions {
    private TaskOptions() {
    }

    /** {@link TaskConfig.Builder#stdio}: where the process's stdin, stdout and stderr go. */
    public static TaskOption stdio(Stdio stdio) {
        Objects.requireNonNull(stdio, "stdio");
        return t -> t.stdio(stdio);
    }

    /** {@link TaskConfig.Builder#sessionScoped}: removed when the creating runtime closes or its JVM dies. */
    public static TaskOption sessionScoped(boolean sessionScoped) {
        return t -> t.sessionScoped(sessionScoped);
    }

    /** {@link TaskConfig.Builder#restoreFrom}: restore from a CRIU checkpoint directory. */
    public static TaskOption restoreFrom(Path imageDir) {
        Objects.requireNonNull(imageDir, "imageDir");
        return t -> t.restoreFrom(imageDir);
    }

    /** {@link TaskConfig.Builder#privateCgroup2}. */
    public static TaskOption privateCgroup2(boolean privateCgroup2) {
        return t -> t.privateCgroup2(privateCgroup2);
    }

    /** {@link TaskConfig.Builder#runcOptions}: overrides the container's runc shim options for this task. */
    public static TaskOption runcOptions(RuncOptions options) {
        Objects.requireNonNull(options, "options");
        return t -> t.runcOptions(options);
    }
}
