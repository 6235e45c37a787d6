package dev.berth;

import dev.berth.api.ClosedException;
import dev.berth.api.Mount;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.api.snapshot.Usage;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A snapshotter opened on its first use: a short-lived process (a CLI call listing images) then never opens
 * the snapshotter's SQLite database. {@link #name()} and {@link #close()} do not open it; a failure to open
 * surfaces at the first call, and that call's next attempt opens again. Thread-safe.
 */
final class LazySnapshotter implements Snapshotter {
    private final String name;
    private final Supplier<Snapshotter> opener;
    private Snapshotter opened;
    private boolean closed;

    LazySnapshotter(String name, Supplier<Snapshotter> opener) {
        this.name = name;
        this.opener = opener;
    }

    private synchronized Snapshotter get() {
        if (closed) {
            throw new ClosedException("snapshotter " + name + " is closed");
        }
        if (opened == null) {
            opened = opener.get();
        }
        return opened;
    }

    /** Whether the snapshotter has been opened (for tests). */
    synchronized boolean isOpen() {
        return opened != null;
    }

    @Override
    public SnapshotInfo stat(String key) {
        return get().stat(key);
    }

    @Override
    public SnapshotInfo update(SnapshotInfo info, String... fieldPaths) {
        return get().update(info, fieldPaths);
    }

    @Override
    public Usage usage(String key) {
        return get().usage(key);
    }

    @Override
    public List<Mount> mounts(String key) {
        return get().mounts(key);
    }

    @Override
    public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
        return get().prepare(key, parent, labels);
    }

    @Override
    public List<Mount> view(String key, String parent, Map<String, String> labels) {
        return get().view(key, parent, labels);
    }

    @Override
    public void commit(String name, String key, Map<String, String> labels) {
        get().commit(name, key, labels);
    }

    @Override
    public void remove(String key) {
        get().remove(key);
    }

    @Override
    public void walk(Consumer<SnapshotInfo> fn, String... filters) {
        get().walk(fn, filters);
    }

    @Override
    public void cleanup() {
        get().cleanup();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void close() {
        Snapshotter s;
        synchronized (this) {
            closed = true;
            s = opened;
            opened = null;
        }
        if (s != null) {
            s.close();
        }
    }

    @Override
    public String toString() {
        return "LazySnapshotter[" + name + (isOpen() ? ", open]" : "]");
    }
}
