package dev.berth.snapshot.internal;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.BerthException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.Labels;
import dev.berth.api.Mount;
import dev.berth.api.NotFoundException;
import dev.berth.api.filter.Filter;
import dev.berth.api.internal.FaultPoints;
import dev.berth.api.snapshot.Kind;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.api.snapshot.Usage;
import dev.berth.sys.FileTrees;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A snapshotter keeping its data under one root directory:
 * <pre>
 *   root/metadata.db          snapshot records (SQLite, shared by every process using the root)
 *   root/snapshots/ID         one directory per snapshot, named by its numeric id
 *   root/snapshots/new-ID     a snapshot being created (renamed to ID once its record is committed)
 *   root/snapshots/rm-...     directories being deleted
 * </pre>
 * A directory is created under its temporary name inside the write transaction that inserts the
 * record, and renamed only after that transaction committed. Killed before the commit, nothing refers
 * to {@code new-ID} and cleanup deletes it; killed after it, the next open (or cleanup) finishes the
 * rename. Removal deletes the record first; a directory without a record is garbage for cleanup.
 * Cleanup runs inside a write transaction, so it never sees another process's half-created snapshot.
 */
public final class LocalSnapshotter implements Snapshotter {
    private static final Logger LOG = LoggerFactory.getLogger(LocalSnapshotter.class);
    private static final String TEMP_PREFIX = "new-";
    private static final String REMOVING_PREFIX = "rm-";

    private final Path root;
    private final Path snapshots;
    private final StorageDriver driver;
    private final MetaStore store;
    private final boolean syncRemove;
    private final AtomicBoolean closed = new AtomicBoolean();

    private LocalSnapshotter(Path root, StorageDriver driver, MetaStore store, boolean syncRemove) {
        this.root = root;
        this.snapshots = root.resolve("snapshots");
        this.driver = driver;
        this.store = store;
        this.syncRemove = syncRemove;
    }

    public static LocalSnapshotter openOverlay(Path root, List<String> mountOptions, boolean upperdirLabel,
                                               boolean syncRemove, Duration busyTimeout) {
        Path r = prepareRoot(root);
        return open(r, new OverlayDriver(r.resolve("snapshots"), mountOptions, upperdirLabel), syncRemove,
                busyTimeout);
    }

    public static LocalSnapshotter openNative(Path root, boolean syncRemove, Duration busyTimeout) {
        Path r = prepareRoot(root);
        return open(r, new NativeDriver(r.resolve("snapshots")), syncRemove, busyTimeout);
    }

    private static Path prepareRoot(Path root) {
        Path r = root.toAbsolutePath().normalize();
        try {
            createPrivateDirectories(r);
            createPrivateDirectories(r.resolve("snapshots"));
        } catch (IOException e) {
            throw new IoFailureException("cannot create snapshotter root " + r, e);
        }
        return r;
    }

    private static void createPrivateDirectories(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            // the mode at creation, so a umask of 000 never leaves a parent wider
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
    }

    private static LocalSnapshotter open(Path root, StorageDriver driver, boolean syncRemove, Duration busyTimeout) {
        MetaStore store = new MetaStore(root.resolve("metadata.db"), busyTimeout);
        LocalSnapshotter s = new LocalSnapshotter(root, driver, store, syncRemove);
        try {
            s.finishInterruptedCreates();
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        return s;
    }

    /** Renames {@code new-ID} to {@code ID} for every record whose creator died between commit and rename. */
    private void finishInterruptedCreates() {
        List<MetaStore.Row> rows = store.read(MetaStore.Tx::all);
        for (MetaStore.Row r : rows) {
            List<Long> parents = r.parentId() == null ? List.of() : List.of(r.parentId());
            if (driver.needsDirectory(r.kind(), parents)) {
                ensurePublished(r.id());
            }
        }
    }

    /** The root this snapshotter keeps its data under. */
    public Path root() {
        return root;
    }

    @Override
    public String name() {
        return driver.name();
    }

    @Override
    public SnapshotInfo stat(String key) {
        requireKey("key", key);
        MetaStore.Row r = store.read(tx -> tx.get(key)).orElseThrow(() -> notFound(key));
        return info(r, true);
    }

    @Override
    public SnapshotInfo update(SnapshotInfo info, String... fieldPaths) {
        Objects.requireNonNull(info, "info");
        String key = info.name();
        requireKey("key", key);
        Map<String, String> requested = info.labels();
        MetaStore.Row updated = store.write(tx -> {
            MetaStore.Row r = tx.get(key).orElseThrow(() -> notFound(key));
            Map<String, String> labels;
            if (fieldPaths == null || fieldPaths.length == 0) {
                labels = new TreeMap<>(requested);
            } else {
                labels = new TreeMap<>(r.labels());
                for (String path : fieldPaths) {
                    if (path != null && path.startsWith("labels.")) {
                        String k = path.substring("labels.".length());
                        String v = requested.get(k);
                        if (v == null || v.isEmpty()) {
                            labels.remove(k);
                        } else {
                            labels.put(k, v);
                        }
                    } else if ("labels".equals(path)) {
                        labels = new TreeMap<>(requested);
                    } else {
                        throw new InvalidArgumentException("cannot update field \"" + path + "\" of snapshot \""
                                + key + "\": only labels and labels.<key> can be updated");
                    }
                }
            }
            Map<String, String> stored = storableLabels(labels);
            Instant now = Instant.now();
            tx.updateLabels(r.id(), stored, now);
            return new MetaStore.Row(r.id(), r.key(), r.parentId(), r.parentKey(), r.kind(), stored, r.created(),
                    now, r.inodes(), r.size());
        });
        return info(updated, true);
    }

    @Override
    public Usage usage(String key) {
        requireKey("key", key);
        MetaStore.Row r = store.read(tx -> tx.get(key)).orElseThrow(() -> notFound(key));
        if (r.kind() == Kind.ACTIVE) {
            ensurePublished(r.id());
            return diskUsage(driver.layerDir(r.id()));
        }
        return new Usage(r.inodes(), r.size());
    }

    @Override
    public List<Mount> mounts(String key) {
        requireKey("key", key);
        record Found(MetaStore.Row row, List<Long> parents) {
        }
        Found f = store.read(tx -> {
            MetaStore.Row r = tx.get(key).orElseThrow(() -> notFound(key));
            if (r.kind() != Kind.ACTIVE && r.kind() != Kind.VIEW) {
                throw new FailedPreconditionException("snapshot \"" + key + "\" is " + r.kind().displayName()
                        + ": only active snapshots and views have mounts");
            }
            List<Long> chain = tx.chain(r.id());
            return new Found(r, chain.subList(1, chain.size()));
        });
        return driver.mounts(f.row().id(), f.row().kind(), f.parents());
    }

    @Override
    public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
        return create(Kind.ACTIVE, key, parent, labels);
    }

    @Override
    public List<Mount> view(String key, String parent, Map<String, String> labels) {
        return create(Kind.VIEW, key, parent, labels);
    }

    private List<Mount> create(Kind kind, String key, String parent, Map<String, String> labels) {
        requireKey("key", key);
        Map<String, String> stored = storableLabels(labels);
        String parentKey = parent == null || parent.isEmpty() ? null : parent;
        record Created(long id, List<Long> parents, Path temp) {
        }
        AtomicReference<Path> tempDir = new AtomicReference<>();
        Created c;
        try {
            c = store.write(tx -> {
                Long parentId = null;
                List<Long> parents = List.of();
                if (parentKey != null) {
                    MetaStore.Row p = tx.get(parentKey).orElseThrow(() -> new NotFoundException(
                            "parent snapshot \"" + parentKey + "\" does not exist"));
                    if (p.kind() != Kind.COMMITTED) {
                        throw new InvalidArgumentException("parent \"" + parentKey + "\" is not a committed snapshot"
                                + " (it is " + p.kind().displayName() + ")");
                    }
                    parentId = p.id();
                    parents = tx.chain(p.id());
                }
                if (tx.get(key).isPresent()) {
                    throw new AlreadyExistsException("snapshot \"" + key + "\" already exists");
                }
                long id = tx.insert(key, parentId, kind, stored, Instant.now());
                Path temp = null;
                if (driver.needsDirectory(kind, parents)) {
                    temp = snapshots.resolve(TEMP_PREFIX + id);
                    // A rolled-back attempt may have used this id and left its directory behind.
                    FileTrees.deleteTree(temp);
                    Files.createDirectory(temp);
                    tempDir.set(temp);
                    Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwxr-xr-x"));
                    driver.populate(temp, kind, parents);
                }
                FaultPoints.reached("create.beforeCommit");
                return new Created(id, parents, temp);
            });
        } catch (RuntimeException e) {
            Path temp = tempDir.get();
            if (temp != null) {
                deleteQuietly(temp);
            }
            throw e;
        }
        FaultPoints.reached("create.afterCommit");
        if (c.temp() != null) {
            publish(c.temp(), c.id());
        }
        return driver.mounts(c.id(), kind, c.parents());
    }

    @Override
    public void commit(String name, String key, Map<String, String> labels) {
        requireKey("name", name);
        requireKey("key", key);
        Map<String, String> stored = storableLabels(labels);
        store.write(tx -> {
            // containerd checks the name first: a taken name is AlreadyExists even when the key is missing
            if (tx.get(name).isPresent()) {
                throw new AlreadyExistsException("cannot commit \"" + key + "\": snapshot \"" + name
                        + "\" already exists");
            }
            MetaStore.Row r = tx.get(key).orElseThrow(() -> notFound(key));
            if (r.kind() != Kind.ACTIVE) {
                throw new FailedPreconditionException("snapshot \"" + key + "\" is " + r.kind().displayName()
                        + ", not Active: only active snapshots can be committed");
            }
            ensurePublished(r.id());
            Usage u = FileTrees.diskUsage(driver.layerDir(r.id()));
            tx.commit(r.id(), name, stored, u.inodes(), u.size(), Instant.now());
            FaultPoints.reached("commit.beforeCommit");
            return null;
        });
    }

    @Override
    public void remove(String key) {
        requireKey("key", key);
        MetaStore.Row removed = store.write(tx -> {
            MetaStore.Row r = tx.get(key).orElseThrow(() -> notFound(key));
            if (tx.hasChildren(r.id())) {
                throw new FailedPreconditionException("cannot remove snapshot \"" + key + "\": it has children");
            }
            tx.delete(r.id());
            return r;
        });
        FaultPoints.reached("remove.afterCommit");
        if (syncRemove) {
            for (String name : List.of(Long.toString(removed.id()), TEMP_PREFIX + removed.id())) {
                Path dir = snapshots.resolve(name);
                if (inUse(dir)) {
                    continue; // cleanup removes it once unmounted
                }
                Optional<Path> aside = moveAside(dir);
                FaultPoints.reached("remove.afterRename");
                aside.ifPresent(p -> {
                    try {
                        FileTrees.deleteTree(p);
                    } catch (IOException e) {
                        LOG.warn("snapshot {} removed, but deleting {} failed; cleanup will retry", key, p, e);
                    }
                });
            }
        }
    }

    @Override
    public void walk(Consumer<SnapshotInfo> fn, String... filters) {
        Objects.requireNonNull(fn, "fn");
        Filter filter = filters == null || filters.length == 0 ? Filter.always() : Filter.parse(filters);
        List<MetaStore.Row> rows = store.read(MetaStore.Tx::all);
        for (MetaStore.Row r : rows) {
            SnapshotInfo stored = info(r, false);
            if (filter.matches(path -> field(stored, path))) {
                fn.accept(info(r, true));
            }
        }
    }

    /** containerd's snapshot field paths: {@code name}, {@code parent}, {@code kind}, {@code labels.<k>}. */
    private static Optional<String> field(SnapshotInfo info, List<String> path) {
        if (path.isEmpty()) {
            return Optional.empty();
        }
        switch (path.get(0)) {
            case "name":
                return Optional.of(info.name());
            case "parent":
                return info.parent() == null ? Optional.empty() : Optional.of(info.parent());
            case "kind":
                // containerd's filter values are lower case ("kind==committed")
                return Optional.of(info.kind().displayName().toLowerCase(java.util.Locale.ROOT));
            case "labels":
                if (path.size() < 2) {
                    return Optional.empty();
                }
                return Optional.ofNullable(info.labels().get(String.join(".", path.subList(1, path.size()))));
            default:
                return Optional.empty();
        }
    }

    /** A removed snapshot's directory some overlay still uses (a mount nobody unmounted) is left alone. */
    private static boolean inUse(Path dir) {
        List<Path> users = LinuxMounter.overlaysUsing(dir);
        if (users.isEmpty()) {
            return false;
        }
        LOG.warn("{} is still used by the overlay mounted at {}; it is deleted by a cleanup after that is unmounted",
                dir, users.get(0));
        return true;
    }

    @Override
    public void cleanup() {
        List<Path> doomed = store.write(tx -> {
            Set<Long> ids = new HashSet<>(tx.ids());
            List<Path> out = new ArrayList<>();
            List<Path> entries = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(snapshots)) {
                ds.forEach(entries::add);
            }
            for (Path entry : entries) {
                String n = entry.getFileName().toString();
                if (n.startsWith(REMOVING_PREFIX)) {
                    out.add(entry);
                } else if (n.startsWith(TEMP_PREFIX)) {
                    Long id = parseId(n.substring(TEMP_PREFIX.length()));
                    if (id != null && ids.contains(id)
                            && !Files.exists(snapshots.resolve(Long.toString(id)), LinkOption.NOFOLLOW_LINKS)) {
                        publish(entry, id);
                    } else {
                        moveAside(entry).ifPresent(out::add);
                    }
                } else {
                    Long id = parseId(n);
                    if (id != null && !ids.contains(id) && !inUse(entry)) {
                        moveAside(entry).ifPresent(out::add);
                    }
                }
            }
            return out;
        });
        BerthException failure = null;
        for (Path p : doomed) {
            try {
                FileTrees.deleteTree(p);
            } catch (IOException e) {
                if (failure == null) {
                    failure = new IoFailureException("cleanup of " + snapshots + " could not delete " + p + ": " + e, e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            store.close();
        }
    }

    @Override
    public String toString() {
        return driver.name() + " snapshotter at " + root;
    }

    private SnapshotInfo info(MetaStore.Row r, boolean withReportedLabels) {
        Map<String, String> labels = r.labels();
        Map<String, String> extra = withReportedLabels ? driver.reportedLabels(r.id()) : Map.of();
        if (!extra.isEmpty()) {
            Map<String, String> merged = new TreeMap<>(labels);
            merged.putAll(extra);
            labels = merged;
        }
        return new SnapshotInfo(r.key(), r.parentKey(), r.kind(), labels, r.created(), r.updated());
    }

    /** Renames {@code new-ID} to {@code ID} unless someone (another process's cleanup) already did. */
    private void publish(Path temp, long id) {
        Path dir = snapshots.resolve(Long.toString(id));
        try {
            Files.move(temp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new BerthException("snapshot directory " + temp + " vanished before it was renamed to " + dir, e);
            }
        } catch (FileAlreadyExistsException e) {
            // rename(2) never reports this for directories; an existing non-empty ID means it was done.
        } catch (IOException e) {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || Files.exists(temp, LinkOption.NOFOLLOW_LINKS)) {
                throw new IoFailureException("cannot rename " + temp + " to " + dir, e);
            }
        }
    }

    private void ensurePublished(long id) {
        Path dir = snapshots.resolve(Long.toString(id));
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Path temp = snapshots.resolve(TEMP_PREFIX + id);
            if (Files.exists(temp, LinkOption.NOFOLLOW_LINKS)) {
                publish(temp, id);
            } else {
                LOG.warn("snapshot directory {} is missing", dir);
            }
        }
    }

    /** Renames {@code dir} to a unique {@code rm-...} name; empty if it no longer exists. */
    private Optional<Path> moveAside(Path dir) {
        Path aside = snapshots.resolve(REMOVING_PREFIX + dir.getFileName() + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE));
        try {
            Files.move(dir, aside, StandardCopyOption.ATOMIC_MOVE);
            return Optional.of(aside);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (AtomicMoveNotSupportedException e) {
            throw new IoFailureException("cannot rename " + dir + " within " + snapshots, e);
        } catch (IOException e) {
            throw new IoFailureException("cannot rename " + dir + " to " + aside, e);
        }
    }

    private static Usage diskUsage(Path dir) {
        try {
            return FileTrees.diskUsage(dir);
        } catch (IOException e) {
            throw new IoFailureException("disk usage of " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            FileTrees.deleteTree(dir);
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not delete {}; cleanup will retry", dir, e);
        }
    }

    private static Long parseId(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return null;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return null;
            }
        }
        return Long.parseLong(s);
    }

    private static Map<String, String> storableLabels(Map<String, String> labels) {
        if (labels == null || labels.isEmpty()) {
            return Map.of();
        }
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, String> e : labels.entrySet()) {
            // containerd stores no empty values: an empty value means "no such label".
            if (e.getValue() != null && !e.getValue().isEmpty()) {
                Labels.validate(e.getKey(), e.getValue());
                out.put(e.getKey(), e.getValue());
            } else if (e.getKey() == null || e.getKey().isEmpty()) {
                Labels.validate(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    private static void requireKey(String what, String key) {
        if (key == null || key.isEmpty()) {
            throw new InvalidArgumentException("snapshot " + what + " must not be empty");
        }
    }

    private static NotFoundException notFound(String key) {
        return new NotFoundException("snapshot \"" + key + "\" does not exist");
    }
}
