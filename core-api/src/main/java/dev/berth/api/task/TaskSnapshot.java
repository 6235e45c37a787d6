package dev.berth.api.task;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A task as seen from outside the runtime that owns its state directory ({@code dev.berth.runtime.TaskInspector}): what its
 * shim answered when asked. {@code pid} is 0 when unknown or before the process exists; {@code exit} is
 * present once the task is {@link TaskStatus#STOPPED}. When the shim did not answer (it is gone, hung, or
 * the bundle names none yet) the status is {@link TaskStatus#UNKNOWN} and {@code error} says why.
 */
public record TaskSnapshot(String namespace, String id, Path bundle, int pid, TaskStatus status,
                           Optional<ExitStatus> exit, Optional<String> error) {
    public TaskSnapshot {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(bundle, "bundle");
        Objects.requireNonNull(status, "status");
        exit = exit == null ? Optional.empty() : exit;
        error = error == null ? Optional.empty() : error;
    }

    /** A task whose shim answered with {@code state}. */
    public static TaskSnapshot of(String namespace, Path bundle, TaskState state) {
        return new TaskSnapshot(namespace, state.id(), bundle, state.pid(), state.status(), state.exit(),
                Optional.empty());
    }

    /** A task whose shim could not be asked, for {@code reason}. */
    public static TaskSnapshot unknown(String namespace, String id, Path bundle, String reason) {
        return new TaskSnapshot(namespace, id, bundle, 0, TaskStatus.UNKNOWN, Optional.empty(),
                Optional.of(Objects.requireNonNull(reason, "reason")));
    }
}
