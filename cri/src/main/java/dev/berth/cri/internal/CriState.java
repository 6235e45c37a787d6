package dev.berth.cri.internal;

import dev.berth.Berth;
import dev.berth.Namespace;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;

/** What the CRI runtime's parts share: the Berth namespace, CNI, images, events and the objects by id. */
abstract class CriState {
    static final String KIND = "berth.dev/cri.kind";
    static final String SANDBOX = "berth.dev/cri.sandbox";
    static final String NAME = "berth.dev/cri.name";
    static final String STARTED = "berth.dev/cri.started";
    static final String FINISHED = "berth.dev/cri.finished";
    static final String EXIT = "berth.dev/cri.exit";
    static final String REASON = "berth.dev/cri.reason";
    static final String MESSAGE = "berth.dev/cri.message";
    static final String STOPPED = "berth.dev/cri.stopped";
    /** The spec annotation holding the CRI request an object was made from (protobuf, base64). */
    static final String CONFIG = "berth.dev/cri.config";
    /** The spec annotation holding a container's resources as last updated (protobuf, base64). */
    static final String RESOURCES = "berth.dev/cri.resources";
    static final String CNI_RESULT = "berth.dev/cri.cni-result";
    static final String NETNS = "berth.dev/cri.netns";
    /** containerd CRI's spec annotations: {@code sandbox} or {@code container}, and the pod's sandbox id. */
    static final String CONTAINER_TYPE = "io.kubernetes.cri.container-type";
    /** Also the runc shim's grouping label: every task of a pod runs in the shim its sandbox started. */
    static final String SANDBOX_ID = "io.kubernetes.cri.sandbox-id";

    final Berth berth;
    final CriRuntime.Settings settings;
    final Namespace ns;
    final ExecutorService exits;
    final CniNetwork cni;
    final CriImages images;
    final CriEvents events = new CriEvents();
    final Map<String, PodSandboxes.Pod> pods = new ConcurrentHashMap<>();
    final Map<String, CriContainers.Ctr> containers = new ConcurrentHashMap<>();
    /** Which shim serves which pods (when several share one). */
    final PodShims shims;
    /** Reserved names (sandboxes' and containers') to the id holding them, until that object is removed. */
    final Map<String, String> names = new ConcurrentHashMap<>();
    volatile boolean closed;

    CriState(Berth berth, CriRuntime.Settings settings, Namespace ns, ExecutorService exits) {
        this.berth = berth;
        this.settings = settings;
        this.ns = ns;
        this.exits = exits;
        this.shims = new PodShims(settings.podsPerShim(), PodShims.CREATES_PER_SHIM,
                PodShims.WARM_SHIM && settings.podsPerShim() > 1 ? new PodShims.WarmShims() {
                    @Override
                    public java.util.Optional<String> take() {
                        try {
                            return ns.tasks().takeShimAsGroup();
                        } catch (RuntimeException e) {
                            LOG.debug("no warm shim: {}", e.toString());
                            return java.util.Optional.empty();
                        }
                    }

                    @Override
                    public void ended(String group) {
                        ns.tasks().endShimGroup(group);
                    }

                    @Override
                    public void prepare() {
                        try {
                            ns.tasks().prepareShim();
                        } catch (RuntimeException e) {
                            LOG.debug("no next warm shim: {}", e.toString());
                        }
                    }
                } : PodShims.WarmShims.NONE);
        this.cni = new CniNetwork(settings.cniConfDir(), settings.cniPluginDirs(), settings.cniTimeout(),
                settings.stateDir().resolve("netns"));
        this.images = new CriImages(ns, settings.registry(), berth.root(), PauseImage.NAME);
    }

    /** Reserves {@code name} for {@code id}. @throws dev.berth.api.AlreadyExistsException if another holds it */
    void reserve(String name, String id, String what) {
        String holder = names.putIfAbsent(name, id);
        if (holder != null && !holder.equals(id)) {
            throw new dev.berth.api.AlreadyExistsException(what + " name \"" + name + "\" is reserved for " + holder
                    + " until it is removed");
        }
    }

    void release(String name, String id) {
        names.remove(name, id);
    }

    /**
     * On ({@code -Dberth.cri.deferRemoval=true}): StopPodSandbox leaves the pause task's delete (its {@code runc
     * delete}, and the shim's exit with its last task) and RemovePodSandbox the sandbox's record, snapshot and
     * files to the background once the kubelet can no longer see them (see {@link #inBackground}). Off by
     * default: at low load that work slowed the next pod by more than it saved (docs/cri.md).
     */
    static final boolean DEFER_REMOVAL = Boolean.getBoolean("berth.cri.deferRemoval");

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CriState.class);
    /** Removals running in the background; {@link #awaitBackground} waits for them at close. */
    private final java.util.Set<java.util.concurrent.CompletableFuture<Void>> background = ConcurrentHashMap.newKeySet();

    /**
     * Runs {@code work} (a removal no CRI call can observe any more) on the exits executor, tracked so that
     * closing the server waits for it. A failure is logged: what it left is an orphan the kubelet no longer
     * knows of (a record the next server recovers as a stopped pod, which the kubelet removes again).
     */
    java.util.concurrent.CompletableFuture<Void> inBackground(String what, Runnable work) {
        java.util.concurrent.CompletableFuture<Void> f = new java.util.concurrent.CompletableFuture<>();
        background.add(f);
        f.whenComplete((v, e) -> background.remove(f));
        try {
            exits.execute(() -> {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    LOG.warn("{} failed: {}", what, e.toString());
                } finally {
                    f.complete(null);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            try {
                work.run(); // the server is closing: do it now
            } finally {
                f.complete(null);
            }
        }
        return f;
    }

    /** Waits up to {@code timeout} for the removals running in the background. */
    void awaitBackground(java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!background.isEmpty() && System.nanoTime() < deadline) {
            try {
                java.util.concurrent.CompletableFuture.allOf(background.toArray(java.util.concurrent.CompletableFuture[]::new))
                        .get(Math.max(1, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // checked again by the loop
            }
        }
        if (!background.isEmpty()) {
            LOG.warn("{} background removal(s) still running at close", background.size());
        }
    }

    /** Off: every CRI record commits with an fsync, as before (the A/B switch of {@link #unsynced}). */
    static final boolean SYNC_RECORDS = Boolean.getBoolean("berth.cri.syncRecords");

    /**
     * Runs a write of CRI records (a sandbox's or container's record with its snapshot, its labels, its
     * removal) with every commit it makes, in Berth's metadata and the snapshot backend's, not waiting for
     * the disk: a crash of the server keeps them, only a power loss (or kernel crash) before the next
     * synced commit may roll them back. What a CRI record describes does not outlive that either: the
     * pause and container processes, the pod's network namespace, its mounts and its shim are all gone
     * after a reboot, and the kubelet makes its pods anew from the API server; a sandbox or container
     * whose removal rolled back shows up stopped and is removed again; one whose creation rolled back is
     * missing, and the snapshot it orphaned is collected.
     */
    static <T> T unsynced(java.util.function.Supplier<T> work) {
        return SYNC_RECORDS ? work.get() : dev.berth.sys.sqlite.SqliteDb.unsyncedWritesOnThisThread(work);
    }

    /** {@link #unsynced(java.util.function.Supplier)} for work without a result. */
    static void unsyncedRun(Runnable work) {
        unsynced(() -> {
            work.run();
            return null;
        });
    }
}
