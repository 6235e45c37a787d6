package dev.berth.snapshot.mount;

import dev.berth.snapshot.internal.LinuxMounter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Mounts made by {@link Mounts#mountAll}; {@link #close()} unmounts them in reverse order (retrying a
 * busy mount, then detaching it lazily). Closing twice does nothing. Thread-safe.
 */
public final class Mounted implements AutoCloseable {
    private final Path target;
    private final List<Path> mountPoints;
    private boolean closed;

    Mounted(Path target, List<Path> mountPoints) {
        this.target = target;
        this.mountPoints = List.copyOf(mountPoints);
    }

    /** The directory the mount list was applied at. */
    public Path target() {
        return target;
    }

    /** Every new mount point, in the order mounted (the same path repeats for stacked mounts). */
    public List<Path> mountPoints() {
        return mountPoints;
    }

    /**
     * Unmounts everything; the first failure is thrown after trying the rest.
     *
     * @throws MountException if a mount could be neither unmounted nor detached
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        MountException first = null;
        List<Path> reversed = new ArrayList<>(mountPoints);
        java.util.Collections.reverse(reversed);
        for (Path p : reversed) {
            try {
                LinuxMounter.unmount(p);
            } catch (MountException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
