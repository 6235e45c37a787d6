package dev.berth.runtime;

import dev.berth.api.task.TaskProcess;
import dev.berth.api.task.TaskSnapshot;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A read-only view of the tasks in a state directory, whichever process's {@link TaskRuntime} owns it
 * (containerd's {@code ctr tasks ls} next to a running daemon). It reads the bundles under
 * {@code <state>/tasks/<ns>/<id>/} and asks each task's shim for its {@code State} (and {@code Pids}) over the
 * shim's ttrpc socket. It changes nothing: it takes no lock, serves no events socket, removes no bundle and
 * stops no shim, so the owning runtime carries on undisturbed. A shim that does not answer makes its task
 * {@link TaskStatus#UNKNOWN}, never the whole listing fail; bundles the owner is just creating or deleting
 * may appear or vanish between two calls.
 *
 * <p>Obtained from {@link TaskRuntime#inspect(Path)}. Thread-safe; holds one event-loop thread until
 * {@link #close()}.
 */
public interface TaskInspector extends AutoCloseable {

    Path stateDir();

    /** Every task of every namespace, by namespace then id; empty if the state directory does not exist. */
    List<TaskSnapshot> list();

    /** The tasks of {@code namespace}, by id. */
    List<TaskSnapshot> list(String namespace);

    /** The task {@code namespace/id}, if it has a bundle. */
    Optional<TaskSnapshot> get(String namespace, String id);

    /**
     * The processes of the task's container, as its shim reports them.
     *
     * @throws dev.berth.api.NotFoundException if there is no such task
     * @throws dev.berth.api.UnavailableException if its shim does not answer
     */
    List<TaskProcess> pids(String namespace, String id);

    /** Drops the shim connections and stops the event loop. Idempotent. */
    @Override
    void close();
}
