package dev.berth.runtime.internal;

import dev.berth.runtime.internal.proto.task.ConnectResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A spare shim that became one task's shim, found again by a runtime that did not take it (or after the
 * one that did went away): the task's own shim in every way, reached at the bundle's {@code address} and
 * shut down with the task. Only its process and home carry the spare's id ({@code berth-shim-...}), so
 * what is left of them is found by that id, and the home under {@code <state>/shims} goes with the shim.
 */
final class SpareBornShim implements ShimConnection {
    private static final Logger log = LoggerFactory.getLogger(SpareBornShim.class);

    private final RuntimeContext ctx;
    private final OwnShim shim;
    private final Bundle bundle;
    private final Path shimBinary;
    private final String namespace;

    private SpareBornShim(RuntimeContext ctx, OwnShim shim, Bundle bundle, Path shimBinary, String namespace) {
        this.ctx = ctx;
        this.shim = shim;
        this.bundle = bundle;
        this.shimBinary = shimBinary;
        this.namespace = namespace;
    }

    /** Connects to the task's shim; its log is drained from the home, where the shim writes it. */
    static SpareBornShim reconnect(RuntimeContext ctx, Bundle bundle, Path shimBinary, ShimLauncher.Context launch) {
        Path shimLog = bundle.sharedShim().map(home -> Bundle.at(home).log()).filter(Files::exists)
                .orElse(bundle.log());
        return new SpareBornShim(ctx, OwnShim.reconnect(ctx, bundle, shimLog, shimBinary, launch), bundle, shimBinary,
                launch.namespace());
    }

    @Override
    public ShimClient client() {
        return shim.client();
    }

    @Override
    public ConnectResponse connect() {
        return shim.connect();
    }

    /** Shut down with its task, as an own shim; its home goes too. */
    @Override
    public void release(boolean now) {
        shim.release(now);
        removeHome(ctx, bundle, namespace);
    }

    @Override
    public void detach() {
        shim.detach();
    }

    @Override
    public void abandon() {
        shim.abandon();
        removeLeftovers(ctx, bundle, shimBinary, namespace);
    }

    /** The shim does not answer (its delete action ran): kills it by its spare's id, removes socket and home. */
    static void removeLeftovers(RuntimeContext ctx, Bundle bundle, Path shimBinary, String namespace) {
        Optional<Path> home = bundle.sharedShim();
        if (home.isPresent()) {
            String id = home.get().getFileName().toString();
            for (long p : ProcFs.shimProcesses(shimBinary, namespace, id, ctx.grpcAddress())) {
                log.warn("killing unresponsive shim {} ({}) of task {}", p, id, bundle.dir());
                ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        bundle.socket().ifPresent(OwnShim::removeSocket);
        removeHome(ctx, bundle, namespace);
    }

    /**
     * Removes the shim's home under its claim. A runtime that holds the claim is the one that took the
     * spare and still lives: it sees the shim's connection drop and removes the home itself.
     */
    private static void removeHome(RuntimeContext ctx, Bundle bundle, String namespace) {
        Optional<Path> home = bundle.sharedShim();
        if (home.isEmpty()) {
            return;
        }
        Optional<TaskLocks.Held> claim = ctx.shimLocks().tryLock(namespace, home.get().getFileName().toString());
        if (claim.isEmpty()) {
            return;
        }
        try (TaskLocks.Held held = claim.get()) {
            if (Files.isDirectory(home.get())) {
                Bundle.at(home.get()).delete();
            }
            held.taskGone();
        } catch (IOException e) {
            log.warn("cannot remove the home {} of the shim of task {}: {}", home.get(), bundle.dir(), e.toString());
        }
    }
}
