package dev.berth.runtime.internal;

import com.google.protobuf.Any;
import dev.berth.api.BerthException;
import dev.berth.api.CanceledException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import dev.berth.api.event.TaskEvent;
import dev.berth.api.internal.FaultPoints;
import dev.berth.api.internal.StepTimes;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskState;
import dev.berth.api.task.TaskStatus;
import dev.berth.runtime.internal.proto.task.ConnectResponse;
import dev.berth.runtime.internal.proto.task.CreateTaskRequest;
import dev.berth.runtime.internal.proto.task.DeleteResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A task: its lifecycle over the {@link TaskService task API} of the shim its {@link ShimConnection} leads
 * to, its exit ({@link ExitTracker}), execs and OOM events. No lock is held across a shim call.
 */
final class ShimTask extends TaskCalls {
    private static final Logger log = LoggerFactory.getLogger(ShimTask.class);
    /** The shim's delete action is bounded by the launcher's own 30 s timeout. */
    static final long CLEANUP_TIMEOUT_MS = 35_000;
    /**
     * The shim forwards {@code /tasks/delete} beside its reply; past this, order is left to chance. The
     * event may travel through another process (the one serving the events socket) and the journal, so
     * the bound allows for a loaded machine; the wait ends as soon as the event is seen.
     */
    private static final long DELETE_EVENT_TIMEOUT_MS = 5_000;
    /** When no journal carries other processes' events, only this runtime's socket can deliver it. */
    private static final long LOCAL_DELETE_EVENT_TIMEOUT_MS = 500;

    private final SharedShimPool sharedShims;
    /** Empty for a task found again after a restart: only its bundle is known. */
    private final Optional<TaskConfig> config;
    private final Path shimBinary;
    private final ShimLauncher.Context launch;
    /** The delete action run after the shim vanished; done at once while the shim is fine. */
    private volatile CompletableFuture<Void> cleanup = CompletableFuture.completedFuture(null);
    private volatile ShimConnection shim;
    private volatile TaskService api;
    /** Set once the task is being deleted, closed or abandoned: no more calls, a dropped connection is expected. */
    private volatile boolean releasing;
    private final TaskLifecycle<ExitStatus> lifecycle;
    /** Held while this runtime drains the task's output FIFOs: the creator, or one runtime that reconnected. */
    private volatile TaskLocks.Held outputLock;
    /** Guards the output's hand-over from another runtime against {@link #release} and {@link #attachLater}. */
    private final Object outputGuard = new Object();
    /** Tries every {@link #OUTPUT_TAKEOVER_PERIOD} to take the output over from the runtime that reads it. */
    private ScheduledFuture<?> outputTakeover;
    private boolean outputReleased;
    /** Streams an attach asked for before the output was taken over: {stdout, stderr}, else null. */
    private OutputStream[] pendingAttach;
    /** Set while this runtime deletes the task under its lock: a shim lost meanwhile is cleaned up without it. */
    private volatile boolean deleting;
    /** Set for a task whose one-task shim another live runtime started: this runtime connects to it directly. */
    private volatile boolean shimOfAnotherRuntime;

    ShimTask(RuntimeContext ctx, SharedShimPool sharedShims, String namespace, String id, Optional<TaskConfig> config,
             Bundle bundle, Path shimBinary, ShimLauncher.Context launch) {
        super(ctx, namespace, id, bundle);
        this.sharedShims = sharedShims;
        this.config = config;
        this.shimBinary = shimBinary;
        this.launch = launch;
        this.lifecycle = new TaskLifecycle<>("task " + namespace + "/" + id);
    }

    /** How a new task gets its shim. */
    enum ShimChoice {
        /** Started for the task, named after it, stopped with it. */
        OWN,
        /** Its own shim, but a spare launched ahead of need (or one started now), stopped with it. */
        SPARE,
        /** Shared with other tasks of the namespace ({@link SharedShimPool#acquire}). */
        SHARED
    }

    /**
     * Off ({@code -Dberth.runtime.joinGroupDirectly=false}): a task of a shim group always runs the shim's
     * {@code start}, also when a live task of this runtime already knows the group's socket.
     */
    static final boolean JOIN_GROUP_DIRECTLY =
            Boolean.parseBoolean(System.getProperty("berth.runtime.joinGroupDirectly", "true"));

    /** The connection of a live task of this runtime to {@code group}'s shim. */
    private Optional<OwnShim> groupShim(String group) {
        for (ShimTask t : ctx.tasks().all()) {
            if (t != this && t.namespace.equals(namespace) && !t.releasing && t.shim instanceof OwnShim o
                    && o.servesGroup(group)) {
                return Optional.of(o);
            }
        }
        return Optional.empty();
    }

    /** The shim of {@code group} running for a live task of this runtime, or the group's warm shim, joined. */
    private Optional<OwnShim> joinGroup(String group) throws IOException {
        if (!JOIN_GROUP_DIRECTLY) {
            return Optional.empty();
        }
        Optional<OwnShim> sibling = groupShim(group);
        if (sibling.isPresent()) {
            return OwnShim.join(ctx, bundle, shimBinary, launch, sibling.get());
        }
        // the group's first task: its shim may be a spare handed over, running already
        SharedShim warm = sharedShims.groupShim(group);
        if (warm != null && warm.shimBinary().equals(shimBinary)) {
            return OwnShim.join(ctx, bundle, shimBinary, launch, warm.socket(), warm.pid());
        }
        return Optional.empty();
    }

    /** Starts (or takes, or shares) the shim and has it create the process. On failure everything is cleaned up. */
    void create(ShimChoice choice) {
        TaskConfig cfg = config.orElseThrow();
        boolean createSent = false;
        SharedShim creating = null;
        try {
            outputLock = ctx.outputLocks().lock(namespace, id);
            io = TaskIO.create(ctx.fifoDir(namespace, id), cfg.stdio(), cfg.terminal(), this::closeStdinAfterInput);
            io.startReaders(ctx.ioThreads());
            StepTimes.mark("fifos");
            if (launch.privateCgroup2()) {
                bundle.markPrivateCgroup2();
            }
            Any options = TaskService.runcOptions(cfg.runcOptions(), ctx.runcRoot());
            if (choice != ShimChoice.OWN) {
                creating = choice == ShimChoice.SHARED
                        ? sharedShims.acquire(namespace, shimBinary, launch.privateCgroup2(), options.toByteArray())
                        : sharedShims.acquireOwn(namespace, shimBinary, launch.privateCgroup2(), options.toByteArray(),
                                cfg.sessionScoped());
                shim = new SharedShimLease(creating, id);
                if (choice == ShimChoice.SPARE) {
                    // first in the home: a later runtime leaves a home whose task is there to that task
                    creating.serve(bundle.dir());
                }
                bundle.writeSharedShim(creating.home(), creating.socket());
                if (choice == ShimChoice.SPARE) {
                    bundle.markSpareShim();
                }
                bundle.writeShimBinaryPath(shimBinary);
            } else {
                // recorded before the shim starts: a runtime deleting another task of the group meanwhile
                // sees that the shim is still wanted
                Optional<String> group = ShimGroup.of(cfg.spec());
                if (group.isPresent()) {
                    bundle.writeShimGroup(group.get());
                }
                Optional<OwnShim> joined = group.isPresent() ? joinGroup(group.get()) : Optional.empty();
                if (joined.isPresent()) {
                    shim = joined.get();
                } else if (group.isPresent()) {
                    // Tasks of a group arriving together would each run the shim's start, and the runc shim's
                    // start removes a group socket it cannot connect to: another start's, bound but not yet
                    // listening, which then fails. One starts the shim; the others join it once it runs.
                    try (TaskLocks.Held starting = ctx.groupLocks().lock(namespace, group.get())) {
                        try {
                            joined = joinGroup(group.get());
                            shim = joined.isPresent() ? joined.get()
                                    : OwnShim.start(ctx, bundle, shimBinary, launch, options.toByteArray());
                        } finally {
                            starting.taskGone(); // no lock file is kept per group; a later task makes a new one
                        }
                    }
                } else {
                    shim = OwnShim.start(ctx, bundle, shimBinary, launch, options.toByteArray());
                }
            }
            connected();
            StepTimes.mark("shim");
            FaultPoints.reached("task.create.afterShimStart");
            CreateTaskRequest.Builder request = CreateTaskRequest.newBuilder()
                    .setBundle(bundle.dir().toString())
                    .setTerminal(cfg.terminal())
                    .setStdin(io.stdin())
                    .setStdout(io.stdout())
                    .setStderr(io.stderr())
                    .setOptions(options);
            cfg.restoreFrom().ifPresent(dir -> request.setCheckpoint(dir.toString()));
            cfg.rootfs().forEach(m -> request.addRootfs(ShimEventDecoder.toProto(m)));
            createSent = true;
            StepTimes.mark("create-request");
            pid = api.create(request, shimBinary);
            StepTimes.mark("create-rpc");
            FaultPoints.reached("task.create.afterCreate");
            // Armed before start: a process that exits at once is still seen.
            watchExit();
            io.startWriter(ctx.ioThreads());
            StepTimes.mark("watch");
        } catch (RuntimeException | IOException e) {
            abandon(createSent);
            if (e instanceof IOException ioe) {
                throw new BerthException("cannot create task " + namespace + "/" + id + ": " + ioe.getMessage(), ioe);
            }
            throw (RuntimeException) e;
        } finally {
            if (creating != null) {
                creating.createDone();
            }
        }
    }

    /**
     * The task's shim is a spare it took, found again here: it is the task's own shim, reached through the
     * bundle's address, whichever runtime started it and whether or not that runtime still lives.
     */
    void reachShimDirectly() {
        shimOfAnotherRuntime = true;
    }

    /**
     * Finds the shim of a task a previous runtime created and watches its exit again. If the shim is gone
     * or does not answer, runs containerd's cleanup instead (the shim's {@code delete} action), publishes
     * {@code /tasks/exit} and {@code /tasks/delete} with the status it reports, removes the bundle and
     * returns false.
     */
    boolean reconnect() {
        try {
            Optional<Path> home = shimOfAnotherRuntime ? Optional.empty() : bundle.sharedShim();
            if (home.isPresent()) {
                SharedShim s = sharedShims.reconnected(home.get());
                if (s == null || !s.attach()) {
                    throw new UnavailableException("shared shim " + home.get() + " is gone");
                }
                shim = new SharedShimLease(s, id);
            } else if (shimOfAnotherRuntime) {
                shim = SpareBornShim.reconnect(ctx, bundle, shimBinary, launch);
            } else {
                shim = OwnShim.reconnect(ctx, bundle, shimBinary, launch);
            }
            ConnectResponse connected = shim.connect();
            pid = connected.getTaskPid();
            connected();
            // The FIFO reader died with the previous JVM: drain them again, or the container blocks once full.
            // Not while the runtime that created the task (or another that reconnected) still reads them.
            outputLock = ctx.outputLocks().tryLock(namespace, id).orElse(null);
            io = outputLock == null ? null
                    : TaskIO.reattach(ctx.fifoDir(namespace, id), outputLoggerName()).orElse(null);
            if (io != null) {
                io.startReaders(ctx.ioThreads());
            }
            if (outputLock == null && Files.exists(ctx.fifoDir(namespace, id).resolve("stdout"))) {
                // that runtime may be a short command: drain here once it lets go, so the task never blocks
                synchronized (outputGuard) {
                    try {
                        outputTakeover = ctx.scheduler().scheduleWithFixedDelay(this::takeOverOutput,
                                OUTPUT_TAKEOVER_PERIOD.toMillis(), OUTPUT_TAKEOVER_PERIOD.toMillis(),
                                TimeUnit.MILLISECONDS);
                    } catch (RejectedExecutionException closing) {
                        // this runtime is closing: it will not need the output
                    }
                }
            }
            // An exit that happened while no runtime was alive reached no events socket: publish it now
            // (once, whichever runtime reconnects first; under the task's lock, so before any delete). Not
            // while the creator lives (it holds the output lock): the shim's own events, still on their way
            // through the events socket, come first, or /tasks/exit could be journaled before /tasks/start.
            publishExitIfStopped(outputLock != null);
            watchExit();
            log.debug("reconnected to task {}/{} (pid {}, shim {}{})", namespace, id, pid, connected.getShimPid(),
                    io != null ? ", output drained to the log" : "");
            return true;
        } catch (RuntimeException e) {
            log.info("task {}/{}: shim unreachable ({}); cleaning up", namespace, id, e.getMessage());
            releasing = true;
            ExitStatus status = deleteAction();
            ShimConnection c = shim;
            if (c != null) {
                c.abandon();
            } else if (shimOfAnotherRuntime) {
                SpareBornShim.removeLeftovers(ctx, bundle, shimBinary, namespace);
            } else if (bundle.sharedShim().isEmpty() && !OwnShim.sharedWithOthers(ctx, bundle, launch)) {
                OwnShim.killLeftovers(ctx, shimBinary, launch);
                bundle.socket().ifPresent(OwnShim::removeSocket);
            }
            ctx.events().publishExit(namespace, id, pid, status);
            ctx.events().publish(namespace, new TaskEvent.Delete(id, "", pid, status.code(), status.exitedAt()));
            release(true);
            return false;
        }
    }

    /**
     * The shim answered Connect; if its State says the task stopped, publishes the exit (once across
     * runtimes) when no live runtime serves the task. A shim that has no such container (its creator died before Create, or after Delete) is
     * cleaned up like an unreachable one (the NotFoundException goes to reconnect's cleanup). Any other
     * failure of State is only logged: the task is reconnected, and Wait reports its exit.
     */
    private void publishExitIfStopped(boolean noOtherRuntimeServesIt) {
        TaskState now;
        try {
            now = api.state();
        } catch (NotFoundException noContainer) {
            throw noContainer;
        } catch (RuntimeException e) {
            log.debug("State of reconnected task {}/{} failed: {}", namespace, id, e.toString());
            return;
        }
        if (now.status() == TaskStatus.STOPPED) {
            ExitStatus status = now.exit().orElse(new ExitStatus(255, java.time.Instant.now()));
            exit.exited(status);
            if (noOtherRuntimeServesIt) {
                ctx.events().publishExit(namespace, id, pid, status);
            }
        }
    }

    private void connected() {
        api = new TaskService(shim.client(), namespace, id, ctx.rpcTimeout());
        shim.client().closeFuture().thenRun(this::connectionLost);
    }

    private void watchExit() {
        exit.watch(api, "", ctx.ioThreads(), () -> !releasing);
        exit.deliverAfter(io, ctx.callbackExecutor());
    }

    /** Runs the shim binary's {@code delete} action: runc force-delete, rootfs unmount, the exit to report. */
    private ExitStatus deleteAction() {
        DeleteResponse r = ctx.launcher().deleteOrReport255(shimBinary, launch);
        if (r.getPid() != 0 && pid == 0) {
            pid = r.getPid();
        }
        return TaskService.exitStatus(r);
    }

    /**
     * The connection dropped without us asking: the shim died (or was killed). Clean up as containerd
     * does - the shim's delete action kills what is left of the container and reports an exit status -
     * so a waiter gets an exit instead of hanging.
     */
    private void connectionLost() {
        if (releasing) {
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        cleanup = done;
        try {
            ctx.ioThreads().execute(() -> cleanUpAfterLostShim(done));
        } catch (RejectedExecutionException closing) {
            // The runtime closed under the task: the next runtime on the state directory cleans up.
            done.completeExceptionally(new UnavailableException("the task runtime closed while task " + namespace
                    + "/" + id + " lost its shim; the next runtime cleans up after it"));
        }
    }

    private void cleanUpAfterLostShim(CompletableFuture<Void> done) {
        // Another runtime may be deleting the task (its delete shuts the shim down): wait for it, then look.
        TaskLocks.Held held = null;
        try {
            if (!deleting) {
                held = ctx.locks().lock(namespace, id);
                if (!bundleExists()) {
                    deletedElsewhere();
                    return;
                }
            }
            ExitStatus status = deleteAction();
            log.warn("shim of {}/{} exited unexpectedly; task exit status {}", namespace, id, status.code());
            if (exit.exited(status)) {
                ctx.events().publishExit(namespace, id, pid, status);
            }
            for (ShimExec e : execs.values()) {
                e.processExited(new ExitStatus(255, status.exitedAt()));
            }
        } catch (RuntimeException e) {
            log.warn("cleanup after the lost shim of {}/{} failed: {}", namespace, id, e.toString());
        } finally {
            if (held != null) {
                held.close();
            }
            done.complete(null);
        }
    }

    boolean bundleExists() {
        return java.nio.file.Files.isDirectory(bundle.dir());
    }

    /** Another runtime deleted the task: this handle lets go of it without touching shim or bundle. */
    void deletedElsewhere() {
        if (releasing && !ctx.tasks().get(namespace, id).filter(t -> t == this).isPresent()) {
            return;
        }
        log.debug("task {}/{} was deleted by another runtime", namespace, id);
        releasing = true;
        ShimConnection c = shim;
        if (c != null) {
            c.detach();
        }
        release(false);
    }

    private void closeStdinAfterInput() {
        TaskService a = api;
        try {
            if (a != null && a.isOpen() && !releasing) {
                a.closeStdin("");
            }
        } catch (BerthException e) {
            log.debug("closing stdin of {}/{} after its input ended: {}", namespace, id, e.toString());
        }
    }

    @Override
    boolean createdHere() {
        return config.isPresent();
    }

    static final java.time.Duration OUTPUT_TAKEOVER_PERIOD = java.time.Duration.ofSeconds(1);

    private String outputLoggerName() {
        return "dev.berth.runtime.task." + namespace + "." + id;
    }

    /** Takes the output FIFOs over once the runtime that read them has let go (closed, exited, died). */
    private void takeOverOutput() {
        try {
            tryToTakeOverOutput();
        } catch (RuntimeException e) { // thrown out of a scheduled task, it would end the tries unseen
            log.debug("task {}/{}: taking its output over: {}", namespace, id, e.toString());
        }
    }

    private void tryToTakeOverOutput() {
        synchronized (outputGuard) {
            if (outputReleased || outputTakeover == null) {
                return;
            }
            Optional<TaskLocks.Held> lock = ctx.outputLocks().tryLock(namespace, id);
            if (lock.isEmpty()) {
                return;
            }
            outputTakeover.cancel(false);
            outputTakeover = null;
            TaskIO taken = TaskIO.reattach(ctx.fifoDir(namespace, id), outputLoggerName()).orElse(null);
            if (taken == null) { // the FIFOs went with the task
                lock.get().close();
                return;
            }
            outputLock = lock.get();
            io = taken;
            taken.startReaders(ctx.ioThreads());
            if (pendingAttach != null) {
                taken.redirect(pendingAttach[0], pendingAttach[1]);
                pendingAttach = null;
            }
            log.debug("task {}/{}: took its output over from the runtime that read it", namespace, id);
        }
    }

    @Override
    boolean attachLater(OutputStream stdout, OutputStream stderr) {
        synchronized (outputGuard) {
            TaskIO taskIO = io;
            if (taskIO != null && taskIO.reattached()) { // taken over meanwhile
                taskIO.redirect(stdout, stderr);
                return true;
            }
            if (outputTakeover == null || outputReleased) {
                return false;
            }
            pendingAttach = new OutputStream[] {stdout, stderr};
            return true;
        }
    }

    @Override
    boolean shimConnected() {
        return shim.client().isOpen();
    }

    @Override
    TaskService api() {
        if (releasing) {
            throw new FailedPreconditionException("task " + namespace + "/" + id + " was deleted or closed");
        }
        return api;
    }

    @Override
    public ExitStatus delete() {
        return lifecycle.delete(this::deleteLocked, this::close);
    }

    /** Two runtimes deleting one task: the first deletes it, the second finds it gone. */
    private ExitStatus deleteLocked() {
        try (TaskLocks.Held held = ctx.locks().lock(namespace, id)) {
            if (!bundleExists()) {
                deletedElsewhere();
                throw new NotFoundException("task " + namespace + "/" + id + " was deleted by another runtime");
            }
            deleting = true;
            try {
                ExitStatus status = deleteNow();
                held.taskGone();
                return status;
            } finally {
                deleting = false;
            }
        }
    }

    private ExitStatus deleteNow() {
        ShimConnection c = shim;
        TaskService a = api;
        if (!exit.hasExited() && c.client().isOpen()) {
            TaskStatus status = a.state().status();
            if (status == TaskStatus.RUNNING || status == TaskStatus.PAUSED || status == TaskStatus.PAUSING) {
                throw new FailedPreconditionException("task " + namespace + "/" + id + " is " + status
                        + "; kill it first or use delete(true)");
            }
        }
        DeleteResponse r = null;
        boolean shimGone = !c.client().isOpen();
        CompletableFuture<Void> deleteEvent = ctx.events().expectDeleteEvent(namespace, id);
        try {
            if (!shimGone) {
                r = a.delete("");
                StepTimes.mark("del-rpc");
                FaultPoints.reached("task.delete.afterShimDelete");
            }
        } catch (NotFoundException e) {
            log.debug("task {}/{} was already gone from its shim", namespace, id);
        } catch (UnavailableException e) {
            if (c.client().isOpen()) {
                ctx.events().deleteEventDone(namespace, id);
                throw e;
            }
            shimGone = true;
        } catch (RuntimeException e) {
            ctx.events().deleteEventDone(namespace, id);
            throw e;
        }
        if (shimGone) {
            awaitQuietly(cleanup, CLEANUP_TIMEOUT_MS, "the cleanup after the shim");
            if (cleanup.isCompletedExceptionally()) {
                ctx.events().deleteEventDone(namespace, id);
                try {
                    cleanup.join();
                } catch (CompletionException e) {
                    throw (RuntimeException) e.getCause();
                }
            }
        }
        ExitStatus status = r != null ? TaskService.exitStatus(r) : exit.reportedOr(new ExitStatus(255, java.time.Instant.now()));
        exit.exited(status);
        exit.awaitDelivered();
        StepTimes.mark("del-delivered");
        if (r != null) {
            // The shim announces the delete beside its reply: published before this returns, as containerd does.
            awaitQuietly(deleteEvent, ctx.events().seesDeletesFromAnyProcess() ? DELETE_EVENT_TIMEOUT_MS
                    : LOCAL_DELETE_EVENT_TIMEOUT_MS, "the /tasks/delete event");
        }
        StepTimes.mark("del-event");
        ctx.events().deleteEventDone(namespace, id);
        releasing = true;
        c.release(false);
        StepTimes.mark("del-shim-release");
        release(true);
        StepTimes.mark("del-release");
        if (shimGone) {
            // The shim cannot announce a delete it never saw; containerd publishes it itself then.
            ctx.events().publish(namespace, new TaskEvent.Delete(id, "", pid, status.code(), status.exitedAt()));
        }
        return status;
    }

    /** Waits up to {@code millis} for {@code step}; a step that does not finish is only logged. */
    private void awaitQuietly(CompletableFuture<?> step, long millis, String what) {
        try {
            step.get(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CanceledException("interrupted while waiting for " + what + " of " + namespace + "/" + id);
        } catch (ExecutionException | TimeoutException e) {
            log.debug("{} of {}/{} did not finish within {} ms: {}", what, namespace, id, millis, e.toString());
        }
    }

    /** Frees this JVM's side: pumps, execs and, when {@code removeBundle}, FIFOs and bundle. */
    private void release(boolean removeBundle) {
        ctx.tasks().remove(this);
        TaskLocks.Held output;
        synchronized (outputGuard) {
            outputReleased = true;
            if (outputTakeover != null) {
                outputTakeover.cancel(false);
                outputTakeover = null;
            }
            pendingAttach = null;
            output = outputLock;
            outputLock = null;
        }
        for (ShimExec e : List.copyOf(execs.values())) {
            e.close();
        }
        TaskIO taskIO = io;
        if (taskIO != null) {
            try {
                if (removeBundle) {
                    taskIO.close();
                } else {
                    // The task lives on: the next runtime drains these FIFOs again.
                    taskIO.detach();
                }
            } catch (IOException e) {
                log.warn("cannot remove stdio FIFOs of {}/{}: {}", namespace, id, e.toString());
            }
        }
        if (removeBundle) {
            try {
                ctx.removals().removeLater(bundle.retire());
                FaultPoints.reached("task.delete.afterRetire");
            } catch (IOException e) {
                log.warn("cannot remove bundle {}: {}", bundle.dir(), e.toString());
            }
            try {
                Bundle.removeRecursively(ctx.fifoDir(namespace, id));
            } catch (IOException e) {
                log.warn("cannot remove FIFOs of {}/{}: {}", namespace, id, e.toString());
            }
            ctx.sessions().unregister(namespace, id);
            SessionReaper.unregisterEverywhere(ctx.stateDir(), namespace, id);
        }
        if (output != null) {
            if (removeBundle) {
                output.taskGone();
            }
            output.close();
        }
        exit.cancel();
    }

    /** Undoes a failed create: the shim (if any) is stopped, and nothing of the task remains. */
    private void abandon(boolean createSent) {
        releasing = true;
        ShimConnection c = shim;
        if (createSent && c.client().isOpen()) {
            try {
                api.delete("", RuntimeContext.SHUTDOWN_TIMEOUT);
            } catch (BerthException e) {
                log.debug("delete of {}/{} after a failed create: {}", namespace, id, e.toString());
            }
        }
        if (c != null) {
            c.release(true);
        }
        if (createSent) {
            // A Create that failed half way (or timed out) can leave a runc container the shim no longer
            // tracks; the shim's delete action force-deletes it with the right runc root and unmounts rootfs.
            try {
                ctx.launcher().delete(shimBinary, launch);
            } catch (RuntimeException e) {
                log.debug("cleanup of {}/{} after a failed create: {}", namespace, id, e.toString());
            }
        }
        release(true);
    }

    /** Detaches at once, also while a delete waits for the shim (that delete then finishes the task). */
    @Override
    public void close() {
        if (!lifecycle.close()) {
            return;
        }
        releasing = true;
        ShimConnection c = shim;
        if (c != null) {
            c.detach();
        }
        release(false);
    }

    @Override
    public String toString() {
        return "Task[" + namespace + "/" + id + ", pid " + pid + "]";
    }
}
