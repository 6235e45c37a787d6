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
 * Finds the tasks a previous runtime on the state directory left, as containerd's shim loader does: every
 * bundle whose shim answers is watched again; the others are cleaned up with the shim's delete action and
 * their exit published. Bundles half deleted and FIFO directories of no task are removed.
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
                        load(namespace, id, Bundle.at(dir));
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
                    if (!ctx.tasks().contains(nsDir.getFileName().toString(), dir.getFileName().toString())) {
                        try {
                            Bundle.removeRecursively(dir);
                        } catch (IOException e) {
                            log.warn("cannot remove stale FIFOs {}: {}", dir, e.toString());
                        }
                    }
                }
            }
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
        ShimTask task = new ShimTask(ctx, sharedShims, namespace, id, Optional.empty(), bundle, shim,
                ctx.shimContext(namespace, id, bundle.dir(), bundle.privateCgroup2()));
        ctx.tasks().add(task);
        task.reconnect();
    }

    static List<Path> list(Path dir) {
        try (var entries = Files.list(dir)) {
            return entries.sorted().toList();
        } catch (IOException e) {
            throw IoFailureException.of("cannot list " + dir, e);
        }
    }
}
