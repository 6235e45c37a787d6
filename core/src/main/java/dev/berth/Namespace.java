package dev.berth;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.ClosedException;
import dev.berth.api.NotFoundException;
import dev.berth.api.content.ContentStore;
import dev.berth.api.event.Events;
import dev.berth.api.internal.StepTimes;
import dev.berth.api.image.Image;
import dev.berth.api.lease.Lease;
import dev.berth.api.lease.Leases;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.RunResult;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.image.ImageService;
import dev.berth.image.ImportOptions;
import dev.berth.metadata.internal.NamespacedMetadata;
import dev.berth.registry.ProgressListener;
import dev.berth.registry.PullOptions;
import dev.berth.registry.PullResult;
import dev.berth.registry.PushOptions;
import dev.berth.registry.RegistryClient;
import dev.berth.runtime.TaskOption;
import dev.berth.runtime.TaskOptions;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything in one namespace of a {@link Berth} root: images, containers, tasks, leases, and this
 * namespace's view of the shared content store and snapshotters. Objects of other namespaces are
 * invisible here (blobs are shared on disk, but a namespace sees only those it stored). Work that creates
 * several related objects (import, pull, container creation) runs under a temporary lease, so garbage
 * collection never removes half-made work. Thread-safe.
 */
public final class Namespace {
    private static final Logger LOG = LoggerFactory.getLogger(Namespace.class);
    /** Step times of {@link #runAndWait} at debug level (the benchmark's step breakdown). */
    private static final Logger STEPS = LoggerFactory.getLogger("dev.berth.timing");
    /** How long the lease of an interrupted import, pull or container creation protects its work. */
    static final Duration TEMPORARY_LEASE = Duration.ofHours(24);

    private final Berth berth;
    private final NamespacedMetadata md;
    private final Images images;
    private final Containers containers;
    private final Tasks tasks;
    private volatile ImageService imageService;

    Namespace(Berth berth, NamespacedMetadata md) {
        this.berth = berth;
        this.md = md;
        this.images = new Images(this);
        this.containers = new Containers(this);
        this.tasks = new Tasks(this);
    }

    /** The namespace's name. */
    public String name() {
        return md.name();
    }

    public Images images() {
        return images;
    }

    public Containers containers() {
        return containers;
    }

    /** Tasks of this namespace's containers that this JVM created. */
    public Tasks tasks() {
        return tasks;
    }

    public Leases leases() {
        berth.ensureOpen();
        return md.leases();
    }

    /** This namespace's view of the content store. */
    public ContentStore content() {
        berth.ensureOpen();
        return md.content();
    }

    /** This namespace's view of snapshotter {@code name} ({@code overlayfs}, {@code native}). */
    public Snapshotter snapshots(String name) {
        Objects.requireNonNull(name, "snapshotter name (snapshots() gives the default one)");
        berth.ensureOpen();
        berth.awaitRemovals(name()); // the snapshots of rm runs that returned are gone from this view
        berth.backendSnapshotter(name);
        return md.snapshotter(name);
    }

    /** This namespace's view of the default snapshotter. */
    public Snapshotter snapshots() {
        return snapshots(berth.defaultSnapshotter());
    }

    /** This namespace's events: changes made in this JVM and what shims report. */
    public Events events() {
        berth.ensureOpen();
        return new ScopedEvents(berth.exchange(), name());
    }

    /**
     * Makes a new lease, expiring after {@code expiry}, current for this namespace on the calling thread:
     * content and snapshots created on this thread through this namespace belong to it until the scope
     * closes (and the lease is deleted).
     */
    public LeaseScope withTemporaryLease(Duration expiry) {
        berth.ensureOpen();
        return md.withTemporaryLease(expiry);
    }

    /**
     * Imports an image archive (OCI layout tar or directory, or a {@code docker save} tar, optionally
     * compressed) and unpacks each image into the default snapshotter, under a temporary lease.
     *
     * @return the images created or updated, in archive order
     * @throws dev.berth.api.InvalidArgumentException for an archive Berth cannot read
     */
    public List<Image> importImage(Path archive) {
        Objects.requireNonNull(archive, "archive");
        return withTemporaryLease(view -> {
            // layers are applied while the archive is stored (see ImportOptions#withUnpack)
            return imageService(view).importArchive(archive, ImportOptions.defaults().withUnpack());
        });
    }

    /** Pulls {@code reference} for the host platform, unpacks it and names it. */
    public Image pull(String reference, ProgressListener listener) {
        return pull(reference, PullSettings.defaults(), listener);
    }

    /**
     * Pulls {@code reference} from its registry (all blobs verified), records the image under its
     * normalized name and unpacks it into the default snapshotter, under a temporary lease.
     *
     * @param listener progress of the transfer (may be null)
     */
    public Image pull(String reference, PullSettings settings, ProgressListener listener) {
        Objects.requireNonNull(reference, "reference");
        Objects.requireNonNull(settings, "settings");
        return withTemporaryLease(view -> {
            RegistryClient client = berth.registry(settings.registry());
            ImageService svc = imageService(view);
            // each layer is applied as soon as it has arrived, while the later ones still download
            PullOptions.Builder options = PullOptions.builder()
                    .contentStore(view.content())
                    .platforms(settings.platforms() != null ? settings.platforms() : berth.platforms())
                    .unpacker(new SnapshotUnpacker(svc, svc.snapshotter(null)));
            if (listener != null) {
                options.progress(listener);
            }
            PullResult pulled = client.pull(reference, options.build());
            Image image = new Image(pulled.name(), pulled.target());
            try {
                return view.images().create(image);
            } catch (AlreadyExistsException e) {
                return view.images().update(image, "target");
            }
        });
    }

    /** Pushes image {@code name} to {@code reference} (default: its own name). */
    public void push(String name, String reference, PushSettings settings, ProgressListener listener) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(settings, "settings");
        berth.ensureOpen();
        Image image = imageService().get(name);
        RegistryClient client = berth.registry(settings.registry());
        PushOptions.Builder options = PushOptions.builder().contentStore(md.content());
        if (settings.platforms() != null) {
            options.platforms(settings.platforms());
        }
        if (listener != null) {
            options.progress(listener);
        }
        client.push(reference == null ? image.name() : reference, image.target(), options.build());
    }

    /**
     * Creates a container from {@code image} with {@code options}, creates its task and starts it. With
     * {@link RunOptions#rm()}, the task and container are deleted once the process has exited (the
     * returned task's {@link Task#onExit()} completes first).
     */
    public Task run(String image, RunOptions options) {
        Objects.requireNonNull(options, "options");
        long t0 = System.nanoTime();
        Containers.Created created = containers.createForRun(options.containerConfig(image), options.rm());
        long tContainer = System.nanoTime();
        Container container = created.container();
        Task task;
        try {
            task = container.newTask(created, options.taskOptions());
            task.start();
        } catch (RuntimeException e) {
            discard(container, e);
            throw e;
        }
        if (options.rm()) {
            berth.trackRemoval(task, task.onExit().handle((status, error) -> null)
                    .thenRun(() -> removeQuietly(created, task)));
        }
        return task;
    }

    /**
     * Creates a container from {@code image}, runs its process to the end with stdout and stderr
     * captured (and {@link RunOptions#stdin()} fed to it), deletes the task and, with
     * {@link RunOptions#rm()}, the container.
     *
     * <p>With rm it returns once the process has exited and its output is in; the task's deletion (runc
     * delete, the rootfs unmount) and the container's removal finish right after, off the caller's path.
     * This JVM's views wait for them: a new container of the same id, the container, task and snapshot
     * lists, {@link Berth#gc()} and {@link Berth#close()}; {@link #awaitRemovals()} waits explicitly. Other
     * processes on the root may see the container for those milliseconds; if this JVM dies first, the next
     * Berth on the root removes it (it is labelled rm). {@code -Dberth.run.removeBeforeReturn=true} keeps
     * all of it before the return.
     */
    public RunResult runAndWait(String image, RunOptions options) throws InterruptedException {
        Objects.requireNonNull(options, "options");
        StepTimes steps = STEPS.isDebugEnabled() ? StepTimes.begin() : null;
        try {
            return runAndWait(image, options, steps);
        } finally {
            if (steps != null) {
                StepTimes.end();
            }
        }
    }

    /**
     * {@code true}: {@link #runAndWait} with rm deletes the task and removes the container before it returns
     * (the order before session 9); by default that runs right after the return, off the caller's path.
     */
    static final String REMOVE_BEFORE_RETURN_PROPERTY = "berth.run.removeBeforeReturn";

    private RunResult runAndWait(String image, RunOptions options, StepTimes steps) throws InterruptedException {
        long t0 = System.nanoTime();
        Containers.Created created = containers.createForRun(options.containerConfig(image), options.rm());
        long tContainer = System.nanoTime();
        Container container = created.container();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        byte[] stdin = options.stdin();
        Task task = null;
        try {
            List<TaskOption> taskOptions = new ArrayList<>(options.taskOptions());
            taskOptions.add(TaskOptions.stdio(Stdio.of(stdin == null ? null : new ByteArrayInputStream(stdin), out,
                    err)));
            task = container.newTask(created, taskOptions);
            long tTask = System.nanoTime();
            task.start();
            long tStart = System.nanoTime();
            StepTimes.mark("start");
            ExitStatus status = task.waitFor();
            long tWait = System.nanoTime();
            StepTimes.mark("wait-returned");
            RunResult result = new RunResult(out.toByteArray(), err.toByteArray(), status.code());
            if (options.rm() && !Boolean.getBoolean(REMOVE_BEFORE_RETURN_PROPERTY)
                    && ContainerNetwork.detachAfterReturn()) {
                // The process has exited and its output is in: that is the caller's result. The task's
                // deletion and the container's removal run on; until they are done this JVM's views (a
                // container of the same id, lists, close()) wait for them, and a crash leaves a container
                // labelled rm that the next Berth on the root removes.
                Task exited = task;
                task = null;
                if (steps != null) {
                    logRunSteps(steps, container.id(), t0, tContainer, tTask, tStart, tWait, false);
                }
                CompletableFuture<Void> removal = new CompletableFuture<>();
                berth.trackRemoval(name(), container.id(), exited, removal);
                // the network's DEL starts now, as it would before the task's deletion on the caller's path
                boolean detachStarted = ContainerNetwork.detachAfterReturn(this, container.id(),
                        created.record().labels());
                try {
                    berth.executor().execute(() -> removeAfterReturn(created, exited, detachStarted, removal));
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    removeAfterReturn(created, exited, detachStarted, removal);
                }
                return result;
            }
            if (options.rm()) {
                removeExited(created, task, ContainerNetwork.detachAfterReturn()
                        && ContainerNetwork.detachAfterReturn(this, container.id(), created.record().labels()));
            } else {
                task.delete();
                StepTimes.mark("task-delete");
            }
            task = null;
            if (steps != null) {
                logRunSteps(steps, container.id(), t0, tContainer, tTask, tStart, tWait, true);
            }
            return result;
        } catch (RuntimeException | InterruptedException e) {
            if (task != null) {
                try {
                    task.delete(true);
                } catch (NotFoundException | ClosedException alreadyDeleted) {
                    // deleted before the container's removal failed
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (options.rm()) {
                discard(container, e);
            }
            throw e;
        }
    }

    /** The bench's step lines of a run (`run-steps`, `run-fine`), from its start to now. */
    private void logRunSteps(StepTimes steps, String containerId, long t0, long tContainer, long tTask, long tStart,
            long tWait, boolean removedBeforeReturn) {
        long tEnd = System.nanoTime();
        String removal = removedBeforeReturn ? String.format(" delete-remove %.1f", (tEnd - tWait) / 1e6) : "";
        STEPS.debug(String.format("run-steps %s %s/%s container %.1f task %.1f start %.1f wait %.1f%s"
                        + " total %.1f ms%s", berth.stateDir().getFileName(), name(), containerId,
                (tContainer - t0) / 1e6, (tTask - tContainer) / 1e6, (tStart - tTask) / 1e6, (tWait - tStart) / 1e6,
                removal, (tEnd - t0) / 1e6,
                removedBeforeReturn ? "" : " (removal after return)"));
        STEPS.debug("run-fine " + berth.stateDir().getFileName() + " " + name() + "/" + containerId + " "
                + steps.format());
    }

    /**
     * Deletes the exited task of an rm run and removes its container. Its network is being detached in the
     * background ({@code detachStarted}: its record makes that crash-safe), or is detached while the task is
     * deleted.
     */
    private void removeExited(Containers.Created created, Task task, boolean detachStarted) {
        Container container = created.container();
        CompletableFuture<Void> detaching = detachStarted ? null
                : ContainerNetwork.detachEarly(this, container.id(), created.record().labels());
        try {
            task.delete();
            StepTimes.mark("task-delete");
            if (detaching != null) {
                ContainerNetwork.join(detaching);
            }
            container.removeRecords(created.record(), true, !detachStarted);
            StepTimes.mark("remove");
        } catch (RuntimeException e) {
            ContainerNetwork.settle(detaching); // a second detach must not run beside it
            throw e;
        }
    }

    /** {@link #removeExited} after {@link #runAndWait} returned, completing {@code removal}. */
    private void removeAfterReturn(Containers.Created created, Task task, boolean detachStarted,
                                   CompletableFuture<Void> removal) {
        StepTimes steps = STEPS.isDebugEnabled() ? StepTimes.begin() : null;
        try {
            removeExited(created, task, detachStarted);
            if (steps != null) {
                STEPS.debug("run-after " + berth.stateDir().getFileName() + " " + name() + "/" + task.id() + " "
                        + steps.format());
            }
            removal.complete(null);
        } catch (RuntimeException e) {
            // as a removal that failed before the return would have left it: the next open retries (rm label)
            try {
                task.delete(true);
            } catch (NotFoundException | ClosedException alreadyDeleted) {
                // deleted before the container's removal failed
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            discard(created.container(), e);
            LOG.warn("cannot remove rm run {} in namespace {} after its exit: {}", task.id(), name(), e.toString());
            removal.completeExceptionally(e);
        } finally {
            if (steps != null) {
                StepTimes.end();
            }
        }
    }

    /**
     * Waits until the removals of this namespace's exited rm runs are done (see {@link Berth#awaitRemovals()}):
     * {@link #runAndWait} with {@link RunOptions#rm()} returns before its task is deleted and its container
     * removed.
     */
    public void awaitRemovals() {
        berth.awaitRemovals(name());
    }

    private static void discard(Container container, Exception cause) {
        try {
            container.task().ifPresent(t -> t.delete(true));
            container.delete();
        } catch (RuntimeException suppressed) {
            cause.addSuppressed(suppressed);
        }
    }

    private void removeQuietly(Containers.Created created, Task task) {
        if (berth.isClosed()) {
            return; // still labelled rm: the next process on the root removes it
        }
        try {
            task.delete();
        } catch (NotFoundException | ClosedException alreadyGone) {
            // the caller deleted it first
        } catch (RuntimeException e) {
            LOG.warn("cannot delete task {}: {}", task.id(), e.toString());
            return; // its rootfs may still be mounted: the snapshot stays with the container
        }
        try {
            created.container().removeRecords(created.record(), true);
        } catch (NotFoundException alreadyGone) {
            // the caller deleted it first
        } catch (RuntimeException e) {
            LOG.warn("cannot delete container {}: {}", created.container().id(), e.toString());
        }
    }

    // ----- plumbing -----

    Berth berth() {
        return berth;
    }

    NamespacedMetadata metadata() {
        berth.ensureOpen();
        return md;
    }

    /** The image service over this namespace without a lease (reads, exports, deletes). */
    ImageService imageService() {
        berth.ensureOpen();
        ImageService s = imageService;
        if (s == null) {
            synchronized (this) {
                s = imageService;
                if (s == null) {
                    s = imageService(md);
                    imageService = s;
                }
            }
        }
        return s;
    }

    /** An image service whose writes go through {@code view} (e.g. bound to a lease). */
    ImageService imageService(NamespacedMetadata view) {
        ImageService.Builder b = ImageService.builder(view.content())
                .imageStore(view.images())
                .platforms(berth.platforms())
                .executor(berth.executor())
                .layerApplier(berth.layerApplier())
                .lockDirectory(berth.root().resolve("locks").resolve("unpack").resolve(name()));
        b.snapshotter(view.snapshotter(berth.defaultSnapshotter()));
        for (String sn : berth.snapshotterNames()) {
            if (!sn.equals(berth.defaultSnapshotter())) {
                b.snapshotter(view.snapshotter(sn));
            }
        }
        return b.build();
    }

    /**
     * Runs {@code work} with a view of this namespace bound to a new lease (on every thread), deleting the
     * lease afterwards: whatever {@code work} made survives only if an image or container references it.
     */
    <T> T withTemporaryLease(Function<NamespacedMetadata, T> work) {
        berth.ensureOpen();
        Lease lease = md.leases().create(null, Map.of(), TEMPORARY_LEASE);
        try {
            return work.apply(md.withLease(lease.id()));
        } finally {
            try {
                md.leases().delete(lease.id(), false);
            } catch (NotFoundException alreadyGone) {
                // expired and collected
            }
        }
    }

    void closeServices() {
        ImageService s = imageService;
        if (s != null) {
            s.close();
        }
    }

    /** Tasks the runtime of this JVM holds for this namespace. */
    List<Task> runtimeTasks() {
        var rt = berth.runtimeIfStarted();
        List<Task> out = new ArrayList<>();
        if (rt != null) {
            for (Task t : rt.tasks()) {
                if (t.namespace().equals(name())) {
                    out.add(t);
                }
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "namespace " + name() + " of " + berth.root();
    }
}
