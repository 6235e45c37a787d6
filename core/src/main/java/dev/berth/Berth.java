package dev.berth;

import dev.berth.api.ClosedException;
import dev.berth.api.Identifiers;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.content.ContentStore;
import dev.berth.api.event.Events;
import dev.berth.api.image.Image;
import dev.berth.api.lease.Leases;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.api.task.RunResult;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskRuntime;
import dev.berth.content.LocalContentStore;
import dev.berth.events.EventExchange;
import dev.berth.events.journal.EventJournal;
import dev.berth.events.journal.JournaledEvents;
import dev.berth.metadata.internal.Metadata;
import dev.berth.registry.ProgressListener;
import dev.berth.registry.RegistryClient;
import dev.berth.runtime.TaskRuntimes;
import dev.berth.snapshot.OverlaySupport;
import dev.berth.snapshot.Snapshotters;
import dev.berth.snapshot.archive.LayerApplier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * containerd's core over one root directory, without a daemon: images, containers, tasks, content,
 * snapshots, leases, events and garbage collection as Java objects.
 *
 * <pre>{@code
 * try (Berth berth = Berth.open(Path.of("/var/lib/berth"))) {
 *     List<Image> images = berth.importImage(Path.of("busybox.tar"));
 *     RunResult r = berth.runAndWait(images.get(0).name(), RunOptions.builder().args("echo", "hi").rm(true).build());
 *     System.out.print(r.stdout());
 * }
 * }</pre>
 *
 * <p>Everything lives in a namespace ({@link #namespace(String)}); the methods on this class act on
 * namespace {@value #DEFAULT_NAMESPACE}. On disk: {@code <root>/content} (blobs), {@code <root>/snapshots/
 * {overlayfs,native}}, {@code <root>/meta.db} (SQLite metadata) and, in the state directory, task bundles
 * and the shims' event socket. Several JVMs may open the same root at once. Tasks are owned by their
 * shim processes: {@link #close()} leaves them running. Thread-safe.
 */
public final class Berth implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Berth.class);

    public static final String DEFAULT_NAMESPACE = "default";
    public static final Path DEFAULT_ROOT = Path.of("/var/lib/berth");
    public static final Path DEFAULT_STATE = Path.of("/run/berth");
    public static final String OVERLAYFS = "overlayfs";
    public static final String NATIVE = "native";

    private final Path root;
    private final Path stateDir;
    private final String defaultRuntime;
    private final boolean sharedShims;
    private final boolean spareShim;
    private final java.time.Duration sharedShimIdle;
    private final String defaultSnapshotter;
    private final PlatformMatcher platforms;
    private final LayerApplier layerApplier;
    private final LocalContentStore content;
    private final Map<String, Snapshotter> snapshotters;
    /** Snapshotters this Berth opened (and closes); the builder's own stay open. */
    private final List<Snapshotter> ownedSnapshotters;
    /** The in-process exchange, journaled in {@code <state>/events.journal} for the other processes. */
    private final JournaledEvents events;
    private final Metadata metadata;
    private final dev.berth.network.Networks networks;
    private final ExecutorService executor;
    private final boolean ownsExecutor;
    private final Map<String, Namespace> namespaces = new ConcurrentHashMap<>();
    private final Object runtimeLock = new Object();
    private volatile TaskRuntime runtime;
    private final boolean ownsRuntime;
    private final RegistryClient suppliedRegistry;
    /** Registry clients this Berth made, one per distinct hosts setting, kept for their connections and tokens. */
    private final Map<RegistryAccess, RegistryClient> registries = new LinkedHashMap<>();
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
    /** Removals of rm runs (run with rm), with their tasks, until they finish. */
    private final Map<java.util.concurrent.CompletableFuture<Void>, Task> pendingRemovals = new ConcurrentHashMap<>();
    /** The same removals by namespace/id, for the views that wait for them. */
    private final Map<String, PendingRemoval> removalsById = new ConcurrentHashMap<>();

    static FileAttribute<Set<PosixFilePermission>> dirMode(String mode) {
        return PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode));
    }

    private Berth(Builder b) {
        this.root = b.root;
        this.stateDir = b.stateDir;
        this.defaultRuntime = b.defaultRuntime;
        this.sharedShims = b.sharedShims;
        this.spareShim = b.spareShim;
        this.sharedShimIdle = b.sharedShimIdle;
        this.platforms = b.platforms;
        this.runtime = b.taskRuntime;
        this.ownsRuntime = b.taskRuntime == null;
        this.suppliedRegistry = b.registryClient;
        this.layerApplier = b.layerApplier;
        RootCheck.requireRoot(root);
        try {
            // explicit modes: the JVM's umask may be 000 (containerd's root is 0711 too)
            Files.createDirectories(root, dirMode("rwx--x--x"));
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
        } catch (IOException e) {
            throw new IoFailureException("cannot create Berth root " + root + ": " + e.getMessage(), e);
        }
        Containers.cleanLeftoverMounts(root);
        if (b.executor != null) {
            executor = b.executor;
            ownsExecutor = false;
        } else {
            AtomicInteger n = new AtomicInteger();
            executor = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "berth-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            ownsExecutor = true;
        }
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            content = LocalContentStore.open(root.resolve("content"));
            opened.add(content);
            Map<String, Snapshotter> sn = new LinkedHashMap<>();
            String chosen = b.snapshotter;
            if (chosen != null && b.snapshotters.containsKey(chosen)) {
                sn.put(chosen, b.snapshotters.get(chosen));
            }
            if (b.snapshotters.containsKey(OVERLAYFS)) {
                sn.putIfAbsent(OVERLAYFS, b.snapshotters.get(OVERLAYFS));
            } else if (chosen == null || chosen.equals(OVERLAYFS)) {
                Path overlayRoot = root.resolve("snapshots").resolve(OVERLAYFS);
                Files.createDirectories(overlayRoot, dirMode("rwx------"));
                OverlaySupport support = Snapshotters.probeOverlayRemembered(overlayRoot);
                if (support.supported()) {
                    Supplier<Snapshotter> open = () -> Snapshotters.overlayBuilder(overlayRoot)
                            .syncRemove(b.syncSnapshotRemoval).build();
                    Snapshotter overlay = b.snapshottersOnFirstUse ? new LazySnapshotter(OVERLAYFS, open) : open.get();
                    opened.add(overlay);
                    sn.put(OVERLAYFS, overlay);
                } else if (chosen != null) {
                    throw new InvalidArgumentException("snapshotter overlayfs cannot mount under " + overlayRoot
                            + ": " + support.reason());
                } else {
                    LOG.info("overlayfs unusable under {} ({}); using the native snapshotter", overlayRoot,
                            support.reason());
                }
            } else if (!chosen.equals(NATIVE) && !b.snapshotters.containsKey(chosen)) {
                throw new InvalidArgumentException("unknown snapshotter \"" + chosen + "\" (use overlayfs, native"
                        + " or one added with snapshotter(name, snapshotter))");
            }
            if (!b.snapshotters.containsKey(NATIVE)) {
                Supplier<Snapshotter> open = () -> Snapshotters.nativeBuilder(root.resolve("snapshots").resolve(NATIVE))
                        .syncRemove(b.syncSnapshotRemoval).build();
                Snapshotter nativeSn = b.snapshottersOnFirstUse ? new LazySnapshotter(NATIVE, open) : open.get();
                opened.add(nativeSn);
                sn.put(NATIVE, nativeSn);
            }
            b.snapshotters.forEach(sn::putIfAbsent);
            this.ownedSnapshotters = opened.stream().filter(Snapshotter.class::isInstance)
                    .map(Snapshotter.class::cast).toList();
            this.snapshotters = java.util.Collections.unmodifiableMap(sn);
            this.defaultSnapshotter = chosen != null ? chosen : sn.keySet().iterator().next();
            EventExchange exchange = EventExchange.builder().threadNamePrefix("berth-events").build();
            opened.add(exchange);
            events = JournaledEvents.over(exchange, EventJournal.open(stateDir, b.eventJournalBytes));
            opened.add(events);
            Metadata.Builder mb = Metadata.builder(root.resolve("meta.db")).content(content).events(events)
                    .gcPolicy(b.gcPolicy).deferredSnapshotRemoval(!b.syncSnapshotRemoval);
            sn.values().forEach(mb::snapshotter);
            metadata = mb.build();
            networks = dev.berth.network.Networks.builder(root, stateDir).pluginDirs(b.cniPluginDirs)
                    .pluginTimeout(b.cniPluginTimeout).spareNetns(b.networkSpares).build();
            opened.add(networks);
            removeOrphanedSessions();
            cleanUpNetworks();
        } catch (IOException e) {
            closeAll(opened);
            if (ownsExecutor) {
                executor.shutdownNow();
            }
            throw new IoFailureException("cannot open Berth root " + root + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeAll(opened);
            if (ownsExecutor) {
                executor.shutdownNow();
            }
            throw e;
        }
    }

    private static void closeAll(List<AutoCloseable> opened) {
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception e) {
                LOG.debug("closing {} failed: {}", opened.get(i), e.toString());
            }
        }
    }

    /** Opens (creating if needed) the root {@code root} with every other option at its default. */
    public static Berth open(Path root) {
        return builder().root(root).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The root directory. */
    public Path root() {
        return root;
    }

    /** The state directory: task bundles, runc state, the shims' event socket. */
    public Path stateDir() {
        return stateDir;
    }

    /** The snapshotter containers and unpacked images use unless told otherwise. */
    public String defaultSnapshotter() {
        return defaultSnapshotter;
    }

    /** The snapshotters available ({@code overlayfs} when the kernel can mount it there, {@code native}). */
    public Set<String> snapshotterNames() {
        return snapshotters.keySet();
    }

    /** The runtime of containers that name none ({@code io.containerd.runc.v2} by default). */
    public String defaultRuntime() {
        return defaultRuntime;
    }

    /** How image layers are applied, with which limits. */
    LayerApplier layerApplier() {
        return layerApplier;
    }

    /** The platforms images are resolved, unpacked and run for. */
    public PlatformMatcher platforms() {
        return platforms;
    }

    /** The namespaces of this root. */
    public Namespaces namespaces() {
        ensureOpen();
        return metadata.namespaces();
    }

    /**
     * The view of namespace {@code name}; it need not exist yet (creating anything in it creates it).
     *
     * @throws InvalidArgumentException if {@code name} is not an identifier
     */
    public Namespace namespace(String name) {
        ensureOpen();
        Identifiers.validate("namespace", name);
        return namespaces.computeIfAbsent(name, n -> new Namespace(this, metadata.namespace(n)));
    }

    /** Namespace {@value #DEFAULT_NAMESPACE}. */
    public Namespace defaultNamespace() {
        return namespace(DEFAULT_NAMESPACE);
    }

    /**
     * Events of every namespace: this JVM's changes, the events shims forward to it and, followed from the
     * state directory's event journal, what every other process on the state directory published (in journal
     * order, with their timestamps). {@link #eventJournal()} reads the journal's history.
     */
    public Events events() {
        ensureOpen();
        return new ScopedEvents(events, null);
    }

    /** The event journal every process on this state directory appends to (to replay history, as {@code berth events --since}). */
    public EventJournal eventJournal() {
        ensureOpen();
        return events.journal();
    }

    /**
     * Runs a garbage collection now, across all namespaces; network attachments whose container or task is
     * gone are undone first.
     */
    public GcResult gc() {
        ensureOpen();
        awaitRemovals();
        removeOrphanedSessions();
        cleanUpNetworks();
        return metadata.gc();
    }

    /** The networks containers of this root attach to, and their attachments. */
    public dev.berth.network.Networks networks() {
        ensureOpen();
        return networks;
    }

    /**
     * Removes what dead processes left: session-scoped containers (their task first, if the session reaper
     * has not removed it yet) and containers run with rm whose task has exited. Each container is removed
     * alone; one that fails is logged and tried again next time.
     */
    private int removeOrphanedSessions() {
        int removed = 0;
        for (NamespaceInfo nsInfo : metadata.namespaces().list()) {
            for (var record : metadata.namespace(nsInfo.name()).containers().list()) {
                String session = record.labels().get(SessionOwner.SESSION_LABEL);
                String rm = record.labels().get(SessionOwner.RM_LABEL);
                String owner = session != null ? session : rm;
                if (owner == null || SessionOwner.isCurrent(owner) || SessionOwner.isAlive(owner)) {
                    continue;
                }
                try {
                    if (removeLeftover(namespace(nsInfo.name()), record, session != null)) {
                        removed++;
                    }
                } catch (RuntimeException e) {
                    LOG.warn("cannot remove container {}/{} left by process {}: {}", nsInfo.name(), record.id(),
                            owner, e.toString());
                }
            }
        }
        return removed;
    }

    private boolean removeLeftover(Namespace ns, dev.berth.api.container.ContainerRecord record, boolean session) {
        if (Files.exists(stateDir.resolve("tasks").resolve(ns.name()).resolve(record.id()))) {
            Task task = runtime().get(ns.name(), record.id()).orElse(null);
            if (task != null) {
                if (task.isAlive() && !session) {
                    return false; // an rm run still running: removed once it has exited
                }
                task.delete(true);
            }
        }
        LOG.debug("removing container {}/{} left by a process that is gone", ns.name(), record.id());
        new Container(ns, record.id()).removeRecords(record, false);
        return true;
    }

    /**
     * Detaches containers whose record is gone, or whose task is gone (its process died, e.g. with a JVM
     * that was killed, and its task was reaped), once the process that attached them is gone as well.
     */
    private int cleanUpNetworks() {
        return networks.cleanup((ns, id) -> {
            try {
                metadata.namespace(ns).containers().get(id);
            } catch (dev.berth.api.NotFoundException gone) {
                return false;
            }
            return Files.exists(stateDir.resolve("tasks").resolve(ns).resolve(id));
        });
    }

    // ----- the default namespace -----

    public Images images() {
        return defaultNamespace().images();
    }

    public Containers containers() {
        return defaultNamespace().containers();
    }

    public Tasks tasks() {
        return defaultNamespace().tasks();
    }

    public Leases leases() {
        return defaultNamespace().leases();
    }

    public ContentStore content() {
        return defaultNamespace().content();
    }

    public Snapshotter snapshots(String snapshotter) {
        return defaultNamespace().snapshots(snapshotter);
    }

    /** See {@link Namespace#importImage(Path)}. */
    public List<Image> importImage(Path archive) {
        return defaultNamespace().importImage(archive);
    }

    /** See {@link Namespace#pull(String, PullSettings, ProgressListener)}. */
    public Image pull(String reference, ProgressListener listener) {
        return defaultNamespace().pull(reference, PullSettings.defaults(), listener);
    }

    /** See {@link Namespace#run(String, RunOptions)}. */
    public Task run(String image, RunOptions options) {
        return defaultNamespace().run(image, options);
    }

    /** See {@link Namespace#runAndWait(String, RunOptions)}. */
    public RunResult runAndWait(String image, RunOptions options) throws InterruptedException {
        return defaultNamespace().runAndWait(image, options);
    }

    /**
     * Releases this JVM's hold on the root: stops garbage collection and the shims' event socket, closes
     * the databases. Running tasks keep running. Idempotent.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        finishRemovals();
        removeSessionContainers();
        closed = true;
        List<AutoCloseable> toClose = new ArrayList<>();
        synchronized (runtimeLock) {
            if (runtime != null && ownsRuntime) {
                toClose.add(runtime);
            }
            toClose.addAll(registries.values());
            registries.clear();
        }
        namespaces.values().forEach(n -> toClose.add(n::closeServices));
        toClose.add(networks);
        toClose.add(metadata);
        toClose.addAll(ownedSnapshotters);
        toClose.add(content);
        toClose.add(events);
        for (AutoCloseable c : toClose) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("closing {} failed: {}", c, e.toString());
            }
        }
        if (ownsExecutor) {
            executor.shutdownNow();
        }
    }

    /** How long {@link #close()} waits for the removal of an rm run whose process has exited. */
    private static final long REMOVAL_WAIT_MS = 10_000;

    /** Lets {@link #close()} finish the removal of rm runs that have exited, so none is left behind. */
    void trackRemoval(Task task, java.util.concurrent.CompletableFuture<Void> removal) {
        pendingRemovals.put(removal, task);
        removal.whenComplete((v, e) -> pendingRemovals.remove(removal));
    }

    /**
     * As {@link #trackRemoval(Task, java.util.concurrent.CompletableFuture)}, and until it is done this
     * JVM's views of namespace {@code ns} wait for it once the task has exited ({@link #awaitRemoval}): a
     * container of the same id can be created again at once, and lists do not show it.
     */
    void trackRemoval(String ns, String id, Task task, java.util.concurrent.CompletableFuture<Void> removal) {
        String key = ns + "/" + id;
        removalsById.put(key, new PendingRemoval(task, removal));
        trackRemoval(task, removal);
        removal.whenComplete((v, e) -> removalsById.remove(key, new PendingRemoval(task, removal)));
    }

    private record PendingRemoval(Task task, java.util.concurrent.CompletableFuture<Void> removal) {
    }

    /** Waits (bounded) for the removal of rm run {@code ns/id} if its process has exited. */
    void awaitRemoval(String ns, String id) {
        if (!removalsById.isEmpty()) {
            PendingRemoval pending = removalsById.get(ns + "/" + id);
            if (pending != null) {
                await(pending);
            }
        }
    }

    /** Waits (bounded) for the removals of the exited rm runs of namespace {@code ns}. */
    void awaitRemovals(String ns) {
        if (!removalsById.isEmpty()) {
            String prefix = ns + "/";
            for (var e : List.copyOf(removalsById.entrySet())) {
                if (e.getKey().startsWith(prefix)) {
                    await(e.getValue());
                }
            }
        }
    }

    /**
     * Waits until the removals of exited rm runs are done. {@link Namespace#runAndWait} with
     * {@link RunOptions#rm()} returns once the process has exited and its output is in; the task's deletion
     * (runc delete, the rootfs unmount), the snapshot and the record go right after, off the caller's path.
     * This JVM's container and task views, a new container of the same id and {@link #close()} wait for
     * them; this waits for all of them (e.g. before measuring something else).
     */
    public void awaitRemovals() {
        for (PendingRemoval pending : List.copyOf(removalsById.values())) {
            await(pending);
        }
        for (var entry : List.copyOf(pendingRemovals.entrySet())) {
            if (!entry.getValue().isAlive()) {
                await(new PendingRemoval(entry.getValue(), entry.getKey()));
            }
        }
    }

    private static void await(PendingRemoval pending) {
        if (pending.removal().isDone() || pending.task().isAlive()) {
            return; // a run still running: its removal waits for its exit
        }
        try {
            pending.removal().get(REMOVAL_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the caller sees the interrupt at its next wait
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("removing rm run {} did not finish: {}", pending.task().id(), e.toString());
        }
    }

    boolean isClosed() {
        return closed;
    }

    private void finishRemovals() {
        long deadline = System.nanoTime() + REMOVAL_WAIT_MS * 1_000_000;
        for (var entry : List.copyOf(pendingRemovals.entrySet())) {
            if (entry.getValue().isAlive()) {
                continue; // still running: labelled rm, the next process on the root removes it after its exit
            }
            try {
                entry.getKey().get(Math.max(1, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                LOG.warn("removing rm run {} did not finish before close: {}", entry.getValue().id(), e.toString());
            }
        }
    }

    /** Removes this process's session-scoped containers of the namespaces it used. */
    private void removeSessionContainers() {
        for (Namespace ns : namespaces.values()) {
            List<dev.berth.api.container.ContainerRecord> mine;
            try {
                mine = ns.metadata().containers().list().stream()
                        .filter(r -> SessionOwner.isCurrent(r.labels().get(SessionOwner.SESSION_LABEL))).toList();
            } catch (RuntimeException e) {
                LOG.warn("cannot list the session-scoped containers of {}: {}", ns, e.toString());
                continue;
            }
            for (var record : mine) {
                try {
                    new Container(ns, record.id()).task().ifPresent(t -> t.delete(true));
                    new Container(ns, record.id()).removeRecords(record, false);
                } catch (RuntimeException e) {
                    LOG.warn("cannot remove session-scoped container {}/{}: {}", ns.name(), record.id(), e.toString());
                }
            }
        }
    }

    // ----- plumbing for the namespace views -----

    void ensureOpen() {
        if (closed) {
            throw new ClosedException("Berth root " + root);
        }
    }

    ExecutorService executor() {
        return executor;
    }

    Events exchange() {
        return events;
    }

    Metadata metadata() {
        return metadata;
    }

    Snapshotter backendSnapshotter(String name) {
        Snapshotter s = snapshotters.get(name);
        if (s == null) {
            throw new dev.berth.api.NotFoundException("snapshotter \"" + name + "\" is not available (have "
                    + String.join(", ", snapshotters.keySet()) + ")");
        }
        return s;
    }

    /** The task runtime, started on first use so that a Berth that never runs tasks binds no socket. */
    TaskRuntime runtime() {
        ensureOpen();
        TaskRuntime r = runtime;
        if (r == null) {
            synchronized (runtimeLock) {
                ensureOpen();
                r = runtime;
                if (r == null) {
                    r = TaskRuntimes.builder().stateDir(stateDir).events(events).defaultRuntime(defaultRuntime)
                            .executor(executor).sharedShims(sharedShims).sharedShimIdleTimeout(sharedShimIdle).spareShim(spareShim)
                            .build();
                    runtime = r;
                }
            }
        }
        return r;
    }

    /** The runtime if it was started, without starting it. */
    TaskRuntime runtimeIfStarted() {
        return runtime;
    }

    /**
     * The registry client for pulls and pushes reaching registries through {@code access}: the builder's,
     * or the one this Berth made for the same access on first use, so connections, TLS sessions and tokens
     * carry over from one pull or push to the next.
     */
    RegistryClient registry(RegistryAccess access) {
        if (suppliedRegistry != null) {
            if (!access.equals(RegistryAccess.defaults())) {
                throw new InvalidArgumentException("this Berth pulls and pushes with the RegistryClient given to its"
                        + " builder, which has its own hosts settings; " + access + " cannot apply");
            }
            ensureOpen();
            return suppliedRegistry;
        }
        synchronized (runtimeLock) {
            ensureOpen();
            return registries.computeIfAbsent(access, RegistryAccess::client);
        }
    }

    /** Options of a {@link Berth}; each is checked when set. Not thread-safe. */
    public static final class Builder {
        private Path root = DEFAULT_ROOT;
        private Path stateDir = DEFAULT_STATE;
        private String snapshotter;
        private String defaultRuntime = TaskRuntime.DEFAULT_RUNTIME;
        private ExecutorService executor;
        private PlatformMatcher platforms = PlatformMatcher.host();
        private GcPolicy gcPolicy = GcPolicy.defaults();
        private LayerApplier layerApplier = LayerApplier.create();
        private boolean sharedShims;
        private boolean spareShim = true;
        private long eventJournalBytes = EventJournal.DEFAULT_MAX_BYTES;
        private java.time.Duration sharedShimIdle = TaskRuntimes.DEFAULT_SHARED_SHIM_IDLE;
        private boolean syncSnapshotRemoval = true;
        private boolean snapshottersOnFirstUse;
        private TaskRuntime taskRuntime;
        private final Map<String, Snapshotter> snapshotters = new LinkedHashMap<>();
        private RegistryClient registryClient;
        private List<Path> cniPluginDirs = dev.berth.network.CniPlugins.DEFAULT_DIRS;
        private java.time.Duration cniPluginTimeout = dev.berth.network.CniPlugins.DEFAULT_TIMEOUT;
        private boolean networkSpares = true;

        private Builder() {
        }

        /**
         * Runs tasks with {@code runtime} instead of one this Berth starts on first use over its state
         * directory. The caller keeps ownership: {@link Berth#close()} leaves it open. The options for the
         * built-in runtime ({@link #defaultRuntime}, {@link #sharedShims}, {@link #sharedShimIdleTimeout})
         * do not reach it, and {@link Berth#events()} carries its task events only if it publishes them to
         * the same events.
         */
        public Builder taskRuntime(TaskRuntime runtime) {
            this.taskRuntime = Objects.requireNonNull(runtime, "taskRuntime");
            return this;
        }

        /**
         * Adds {@code snapshotter} under {@code name}, which must be its {@link Snapshotter#name()} (the name
         * metadata records); {@code overlayfs} or {@code native} replace the built-in one. The caller keeps
         * ownership: {@link Berth#close()} leaves it open. Name it in {@link #snapshotter(String)} to make it
         * the default.
         *
         * @throws InvalidArgumentException if {@code name} is not an identifier, differs from the
         *         snapshotter's name, or was added before
         */
        public Builder snapshotter(String name, Snapshotter snapshotter) {
            Objects.requireNonNull(snapshotter, "snapshotter");
            Identifiers.validate("snapshotter", name);
            if (!name.equals(snapshotter.name())) {
                throw new InvalidArgumentException("snapshotter added as \"" + name + "\" calls itself \""
                        + snapshotter.name() + "\"; metadata records snapshots under the snapshotter's own name");
            }
            if (snapshotters.putIfAbsent(name, snapshotter) != null) {
                throw new InvalidArgumentException("snapshotter \"" + name + "\" added twice");
            }
            return this;
        }

        /**
         * Pulls and pushes with {@code client}, one shared client whose connections, TLS sessions and tokens
         * serve every pull and push of this Berth (each names its namespace's content store). Its own hosts
         * directory, plain-HTTP choice and credentials apply, so pulls and pushes must use
         * {@link RegistryAccess#defaults()}.
         * The caller keeps ownership: {@link Berth#close()} leaves it open. Unset: Berth makes one client per
         * distinct {@link RegistryAccess} and reuses it until close.
         */
        public Builder registryClient(RegistryClient client) {
            this.registryClient = Objects.requireNonNull(client, "registryClient");
            return this;
        }

        /**
         * The bound of the event journal ({@code <state>/events.journal}): rotated to {@code events.journal.1}
         * once it would pass {@code bytes}, so at most twice that is kept. Default 8 MiB; at least 4096.
         */
        public Builder eventJournalBytes(long bytes) {
            if (bytes < 4096) {
                throw new InvalidArgumentException("event journal bound " + bytes + " is below 4096 bytes");
            }
            this.eventJournalBytes = bytes;
            return this;
        }

        /**
         * Lets the tasks of a namespace (with the same runtime and runtime options) share one shim process
         * instead of one each, and keeps an unused shim warm for {@link #sharedShimIdleTimeout} so the next
         * task starts without launching one: faster starts and about 3 MiB less per task, but a shim crash
         * ends every task it serves. Off by default. See {@link TaskRuntimes.Builder#sharedShims}.
         */
        public Builder sharedShims(boolean shared) {
            this.sharedShims = shared;
            return this;
        }

        /**
         * Whether a task that gets a shim of its own (shared shims off) takes one launched ahead of need
         * instead of waiting for its start (default true): one spare shim is kept, launched in the background
         * when a task lets go of its shim, stopped by {@link Berth#close()} and reaped if the JVM dies. It
         * costs one idle shim process (about 3 MiB) while Berth is open. A spare a task took is that task's
         * own shim: a task that outlives its JVM is found again, used and deleted by any later Berth on the
         * state directory, and an unused spare is invisible to other processes. A short-lived process (a
         * CLI call) turns it off. See {@link TaskRuntimes.Builder#spareShim}.
         */
        public Builder spareShim(boolean spare) {
            this.spareShim = spare;
            return this;
        }

        /**
         * How layers are applied when images are unpacked (default {@link LayerApplier#create()}: a layer
         * above 64 GiB uncompressed, or one past 64 MiB that decompresses more than 1000:1, is refused).
         */
        public Builder layerApplier(LayerApplier applier) {
            this.layerApplier = Objects.requireNonNull(applier, "layerApplier");
            return this;
        }

        /**
         * Whether removing a snapshot (e.g. deleting a container) deletes it from the snapshotter and its
         * directory before returning (default true). With false only its metadata record goes at once, as
         * with containerd's metadata snapshotter, and garbage collection removes the snapshot and reclaims
         * the directory soon after (with {@link GcPolicy#manual()}, at the next {@link Berth#gc()}):
         * container removal is faster, the disk space comes back later.
         */
        public Builder syncSnapshotRemoval(boolean sync) {
            this.syncSnapshotRemoval = sync;
            return this;
        }

        /**
         * Whether the snapshotters this Berth opens (overlayfs, native) open their databases only when first
         * used (default false: at {@link #build()}, which also finishes what an interrupted process left).
         * For short-lived processes whose work may not touch snapshots, e.g. the CLI's {@code images ls}:
         * overlayfs support is still probed at build; a snapshotter that cannot open fails at its first use.
         */
        public Builder snapshottersOnFirstUse(boolean onFirstUse) {
            this.snapshottersOnFirstUse = onFirstUse;
            return this;
        }

        /** How long an unused shared shim waits for the next task (default 10 s; zero: stop at once). */
        public Builder sharedShimIdleTimeout(java.time.Duration idle) {
            Objects.requireNonNull(idle, "idle");
            if (idle.isNegative()) {
                throw new InvalidArgumentException("sharedShimIdleTimeout must not be negative: " + idle);
            }
            this.sharedShimIdle = idle;
            return this;
        }

        /** The root directory (default {@code /var/lib/berth}). */
        /** Where CNI plugins are looked up, in order (default /opt/cni/bin, then /usr/lib/cni). */
        public Builder cniPluginDirs(List<Path> dirs) {
            if (dirs.isEmpty()) {
                throw new InvalidArgumentException("cniPluginDirs must not be empty");
            }
            this.cniPluginDirs = List.copyOf(dirs);
            return this;
        }

        /** How long one CNI plugin may run before it is killed and the attachment fails (default 30 s). */
        /**
         * Whether each network Berth manages keeps a spare network namespace, attached (CNI ADD) ahead of
         * need, for the next container to take (default on; {@code -Dberth.network.spare=false} turns it
         * off while it is set). See docs/network.md.
         */
        public Builder networkSpares(boolean on) {
            this.networkSpares = on;
            return this;
        }

        public Builder cniPluginTimeout(java.time.Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new InvalidArgumentException("cniPluginTimeout must be positive, not " + timeout);
            }
            this.cniPluginTimeout = timeout;
            return this;
        }

        public Builder root(Path dir) {
            this.root = Objects.requireNonNull(dir, "root").toAbsolutePath().normalize();
            return this;
        }

        /** The state directory (default {@code /run/berth}); should be on tmpfs, like containerd's. */
        public Builder stateDir(Path dir) {
            this.stateDir = Objects.requireNonNull(dir, "stateDir").toAbsolutePath().normalize();
            return this;
        }

        /**
         * The default snapshotter: {@code overlayfs}, {@code native} or one added with
         * {@link #snapshotter(String, Snapshotter)} (checked at {@link #build()}). Unset: overlayfs when a test
         * mount under the root works, else native.
         */
        public Builder snapshotter(String name) {
            Objects.requireNonNull(name, "snapshotter");
            Identifiers.validate("snapshotter", name);
            this.snapshotter = name;
            return this;
        }

        /** The runtime of containers that name none (default {@code io.containerd.runc.v2}). */
        public Builder defaultRuntime(String runtime) {
            Objects.requireNonNull(runtime, "defaultRuntime");
            if (runtime.isBlank()) {
                throw new InvalidArgumentException("defaultRuntime must not be blank");
            }
            this.defaultRuntime = runtime;
            return this;
        }

        /**
         * Threads for unpacking layers and for {@link Task#onExit()} callbacks; must run tasks on other
         * threads than the caller's. Default: an internal pool of daemon threads.
         */
        public Builder executor(ExecutorService executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** Which platform to pick from multi-platform images (default: the host's). */
        public Builder platforms(PlatformMatcher matcher) {
            this.platforms = Objects.requireNonNull(matcher, "platforms");
            return this;
        }

        /** When garbage collection runs by itself (default {@link GcPolicy#defaults()}). */
        public Builder gcPolicy(GcPolicy policy) {
            this.gcPolicy = Objects.requireNonNull(policy, "gcPolicy");
            return this;
        }

        public Berth build() {
            return new Berth(this);
        }
    }
}
