package dev.berth.runtime.internal;

import dev.berth.api.IoFailureException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the tasks a previous runtime on the state directory left, or another live runtime created, as
 * containerd's shim loader does: every bundle whose shim answers is watched again; the others are cleaned up
 * with the shim's delete action and their exit published. Bundles half deleted and FIFO directories of no
 * task are removed. Each bundle is handled under its task's lock: one that another runtime is creating or
 * deleting right now is left to it (and found later by {@link #find}).
 */
final class TaskRecovery {
    private static final Logger log = LoggerFactory.getLogger(TaskRecovery.class);
    private final RuntimeContext ctx;
    private final SharedShimPool sharedShims;
    /** The shim of the default runtime, for a bundle that names none. */
    private final Supplier<Path> defaultShim;

    TaskRecovery(RuntimeContext ctx, SharedShimPool sharedShims, Supplier<Path> defaultShim) {
        this.ctx = ctx;
        this.sharedShims = sharedShims;
        this.defaultShim = defaultShim;
    }

    void run() {
        sharedShims.reconnect(this::reconnectTasks);
    }

    private void reconnectTasks() {
        Path tasksDir = ctx.tasksDir();
        if (Files.isDirectory(tasksDir)) {
            for (Path nsDir : list(tasksDir)) {
                String namespace = nsDir.getFileName().toString();
                if (namespace.startsWith(".") || !Files.isDirectory(nsDir)) {
                    continue;
                }
                for (Path dir : list(nsDir)) {
                    String id = dir.getFileName().toString();
                    try {
                        if (id.startsWith(".")) {
                            // a bundle whose deletion was interrupted
                            Bundle.removeRecursively(dir);
                            continue;
                        }
                        Optional<TaskLocks.Held> held = ctx.locks().tryLock(namespace, id);
                        if (held.isEmpty()) {
                            continue;
                        }
                        try (TaskLocks.Held h = held.get()) {
                            loadLocked(namespace, id, dir, h);
                        }
                    } catch (IOException | RuntimeException e) {
                        log.warn("cannot recover task {}/{} from {}: {}", namespace, id, dir, e.toString());
                    }
                }
            }
        }
        Path fifos = ctx.stateDir().resolve("fifo");
        if (Files.isDirectory(fifos)) {
            for (Path nsDir : list(fifos)) {
                for (Path dir : list(nsDir)) {
                    String namespace = nsDir.getFileName().toString();
                    String id = dir.getFileName().toString();
                    if (ctx.tasks().contains(namespace, id)
                            || Files.exists(ctx.tasksDir().resolve(namespace).resolve(id))) {
                        continue;
                    }
                    // FIFOs are made after the bundle, under the task's lock: no bundle and no lock holder
                    // means no runtime will use them.
                    try (TaskLocks.Held h = ctx.locks().tryLock(namespace, id).orElse(null)) {
                        if (h != null && !Files.exists(ctx.tasksDir().resolve(namespace).resolve(id))) {
                            Bundle.removeRecursively(dir);
                        }
                    } catch (IOException e) {
                        log.warn("cannot remove stale FIFOs {}: {}", dir, e.toString());
                    }
                }
            }
        }
    }

    /** The task {@code namespace/id} if its bundle is there, reconnected (waits for a create in flight). */
    Optional<ShimTask> find(String namespace, String id) {
        Path dir = ctx.tasksDir().resolve(namespace).resolve(id);
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (TaskLocks.Held h = ctx.locks().lock(namespace, id)) {
            Optional<ShimTask> known = ctx.tasks().get(namespace, id);
            if (known.isPresent()) {
                return known;
            }
            loadLocked(namespace, id, dir, h);
        } catch (IOException e) {
            throw IoFailureException.of("cannot load task " + namespace + "/" + id + " from " + dir, e);
        }
        return ctx.tasks().get(namespace, id);
    }

    /** Loads every bundle not known yet (tasks other runtimes created since). */
    void findAll() {
        Path tasksDir = ctx.tasksDir();
        if (!Files.isDirectory(tasksDir)) {
            return;
        }
        for (Path nsDir : list(tasksDir)) {
            String namespace = nsDir.getFileName().toString();
            if (namespace.startsWith(".") || !Files.isDirectory(nsDir)) {
                continue;
            }
            for (Path dir : list(nsDir)) {
                String id = dir.getFileName().toString();
                if (!id.startsWith(".") && !ctx.tasks().contains(namespace, id)) {
                    try {
                        find(namespace, id);
                    } catch (RuntimeException e) {
                        log.warn("cannot load task {}/{} from {}: {}", namespace, id, dir, e.toString());
                    }
                }
            }
        }
    }

    private void loadLocked(String namespace, String id, Path dir, TaskLocks.Held held) throws IOException {
        if (!Files.isDirectory(dir) || ctx.tasks().contains(namespace, id)) {
            return;
        }
        load(namespace, id, Bundle.at(dir));
        if (!Files.exists(dir)) {
            held.taskGone();
        }
    }

    private void load(String namespace, String id, Bundle bundle) throws IOException {
        if (!Files.exists(bundle.configJson())) {
            log.info("removing empty bundle {}", bundle.dir());
            bundle.delete();
            return;
        }
        Path shim = bundle.shimBinaryPath().filter(Files::isExecutable).orElse(null);
        if (shim == null) {
            try {
                shim = defaultShim.get();
            } catch (RuntimeException e) {
                log.warn("bundle {} names no usable shim and the default runtime has none ({}); removing it",
                        bundle.dir(), e.getMessage());
                bundle.delete();
                return;
            }
        }
        Optional<Path> home = bundle.sharedShim();
        // A spare the task took is the task's own shim, whoever launched it and whether that runtime lives:
        // reached at the bundle's address, never through the shim pool (which leaves such a home alone).
        boolean direct = home.isPresent() && bundle.spareShim();
        if (!direct && home.isPresent() && sharedShims.reconnected(home.get()) == null
                && Files.isDirectory(home.get()) && isClaimed(home.get())) {
            // its shared shim belongs to another live runtime, which handles the task
            return;
        }
        ShimTask task = new ShimTask(ctx, sharedShims, namespace, id, Optional.empty(), bundle, shim,
                ctx.shimContext(namespace, id, bundle.dir(), bundle.privateCgroup2()));
        if (direct) {
            task.reachShimDirectly();
        }
        ctx.tasks().add(task);
        task.reconnect();
    }

    private boolean isClaimed(Path home) {
        Optional<TaskLocks.Held> claim = ctx.shimLocks().tryLock(home.getParent().getFileName().toString(),
                home.getFileName().toString());
        claim.ifPresent(TaskLocks.Held::close);
        return claim.isEmpty();
    }

    static List<Path> list(Path dir) {
        try (var entries = Files.list(dir)) {
            return entries.sorted().toList();
        } catch (IOException e) {
            throw IoFailureException.of("cannot list " + dir, e);
        }
    }
}
