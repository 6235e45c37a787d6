package dev.berth.api.task;

import java.util.Objects;
import java.util.Optional;

/**
 * One process in a task's container ({@link Task#pids()}): its host pid and, for a process the shim
 * started through {@link Task#exec}, the exec id (empty for the init process and its children).
 */
public record TaskProcess(int pid, Optional<String> execId) {
    public TaskProcess {
        Objects.requireNonNull(execId, "execId");
    }
}
