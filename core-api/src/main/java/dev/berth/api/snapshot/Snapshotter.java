package dev.berth.api.snapshot;

import dev.berth.api.Mount;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Layered file systems for containers: containerd's {@code snapshots.Snapshotter}.
 *
 * <h2>Lifecycle</h2>
 * <pre>
 *   prepare("extract-1 sha256:L0", null)  → mounts of an empty, writable snapshot (Active)
 *   ... unpack a layer into those mounts ...
 *   commit("sha256:L0", "extract-1 sha256:L0")  → the active key disappears; "sha256:L0" is Committed
 *   prepare("ctr-1", "sha256:L0")  → a writable layer over the committed one (a container's rootfs)
 *   view("ro-1", "sha256:L0")      → a read-only view, which can never be committed
 * </pre>
 * Active, view and committed snapshots share one key space. Only committed snapshots can be parents.
 * {@link #remove(String)} refuses a snapshot that still has children. Errors are containerd's:
 * {@link dev.berth.api.NotFoundException} for a missing key or parent,
 * {@link dev.berth.api.AlreadyExistsException} for a duplicate key (also when committing to a taken name),
 * {@link dev.berth.api.InvalidArgumentException} for a non-committed parent, an empty key or a bad label,
 * {@link dev.berth.api.FailedPreconditionException} for committing anything but an active snapshot, asking a
 * committed snapshot for its mounts, or removing a parent.
 *
 * <p>Mounts are returned, not performed: the caller (or a shim) mounts them. Implementations are
 * thread-safe and safe to share between processes using one root. Filters for {@link #walk} use fields
 * {@code name}, {@code parent}, {@code kind} and {@code labels.<key>}.
 */
public interface Snapshotter extends AutoCloseable {

    /** @throws dev.berth.api.NotFoundException if {@code key} does not exist */
    SnapshotInfo stat(String key);

    /**
     * Updates labels only (field paths {@code labels} or {@code labels.<key>}; none = replace all).
     */
    SnapshotInfo update(SnapshotInfo info, String... fieldPaths);

    /** Disk usage of the snapshot's own layer (not its parents). */
    Usage usage(String key);

    /**
     * The mounts of an active snapshot or view.
     *
     * @throws dev.berth.api.FailedPreconditionException for a committed snapshot
     */
    List<Mount> mounts(String key);

    /** Creates an active snapshot over {@code parent} (null = empty) and returns its rw mounts. */
    List<Mount> prepare(String key, String parent, Map<String, String> labels);

    default List<Mount> prepare(String key, String parent) {
        return prepare(key, parent, Map.of());
    }

    /** Creates a read-only view of {@code parent}. */
    List<Mount> view(String key, String parent, Map<String, String> labels);

    default List<Mount> view(String key, String parent) {
        return view(key, parent, Map.of());
    }

    /**
     * Turns the active snapshot {@code key} into the committed snapshot {@code name}, recording its disk
     * usage. The committed snapshot gets {@code labels} (the active one's labels are not inherited) and
     * new created/updated times.
     *
     * @throws dev.berth.api.NotFoundException if {@code key} does not exist
     * @throws dev.berth.api.AlreadyExistsException if {@code name} exists
     * @throws dev.berth.api.FailedPreconditionException if {@code key} is a view or already committed
     */
    void commit(String name, String key, Map<String, String> labels);

    default void commit(String name, String key) {
        commit(name, key, Map.of());
    }

    /**
     * Removes a snapshot. @throws dev.berth.api.FailedPreconditionException if it has children
     */
    void remove(String key);

    /** Calls {@code fn} for every snapshot matching the filters. */
    void walk(Consumer<SnapshotInfo> fn, String... filters);

    default List<SnapshotInfo> list(String... filters) {
        List<SnapshotInfo> out = new java.util.ArrayList<>();
        walk(out::add, filters);
        return out;
    }

    /** Reclaims disk space of removed snapshots and leftovers of interrupted operations. */
    void cleanup();

    /** The snapshotter's name as used in labels and configuration: {@code overlayfs}, {@code native}. */
    String name();

    @Override
    void close();
}
