package dev.berth.api.task;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A snapshot of a task as its shim reports it: {@code pid} is 0 before the process exists, and
 * {@code exit} is present once the task is {@link TaskStatus#STOPPED}.
 */
public record TaskState(String id, Path bundle, int pid, TaskStatus status, boolean terminal,
                        Optional<ExitStatus> exit) {
    public TaskState {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(status, "status");
        exit = exit == null ? Optional.empty() : exit;
    }
}
