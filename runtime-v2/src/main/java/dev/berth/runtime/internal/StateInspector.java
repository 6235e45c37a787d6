package dev.berth.runtime.internal;

import dev.berth.api.IoFailureException;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import dev.berth.api.task.TaskProcess;
import dev.berth.api.task.TaskSnapshot;
import dev.berth.api.task.TaskState;
import dev.berth.runtime.TaskInspector;
import dev.berth.runtime.internal.proto.runc.ProcessDetails;
import dev.berth.runtime.internal.proto.task.PidsRequest;
import dev.berth.runtime.internal.proto.task.PidsResponse;
import dev.berth.runtime.internal.proto.task.StateRequest;
import dev.berth.runtime.internal.proto.types.ProcessInfo;
import dev.berth.runtime.ttrpc.internal.EpollLoop;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link TaskInspector} over the bundles of a state directory: one ttrpc connection per shim socket and
 * listing, every task's {@code State} in flight at once, so hung shims cost one deadline, not one each.
 * Never writes to the state directory, not even to create it.
 */
public final class StateInspector implements TaskInspector {
    private static final Comparator<TaskSnapshot> ORDER = Comparator.comparing(TaskSnapshot::namespace)
            .thenComparing(TaskSnapshot::id);

    private final Path stateDir;
    private final Duration timeout;
    private final EpollLoop loop;
    private final AtomicBoolean closed = new AtomicBoolean();

    public StateInspector(Path stateDir, Duration timeout) {
        this.stateDir = stateDir;
        this.timeout = timeout;
        this.loop = EpollLoop.start("berth-inspect", 1);
    }

    private record Entry(String namespace, String id, Path dir) {
    }

    @Override
    public Path stateDir() {
        return stateDir;
    }

    @Override
    public List<TaskSnapshot> list() {
        ensureOpen();
        List<Entry> entries = new ArrayList<>();
        for (Path nsDir : children(stateDir.resolve("tasks"))) {
            entries.addAll(bundles(nsDir.getFileName().toString()));
        }
        return query(entries);
    }

    @Override
    public List<TaskSnapshot> list(String namespace) {
        ensureOpen();
        return query(bundles(checkName("namespace", namespace)));
    }

    @Override
    public Optional<TaskSnapshot> get(String namespace, String id) {
        ensureOpen();
        Path dir = bundleDir(namespace, id);
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        return query(List.of(new Entry(namespace, id, dir))).stream().findFirst();
    }

    @Override
    public List<TaskProcess> pids(String namespace, String id) {
        ensureOpen();
        Path dir = bundleDir(namespace, id);
        if (!Files.isDirectory(dir)) {
            throw new NotFoundException("task " + namespace + "/" + id + ": no bundle in " + stateDir);
        }
        Path socket = socketOf(dir).orElseThrow(() -> new UnavailableException("task " + namespace + "/" + id
                + " has no shim address in " + dir + " (its shim is not started yet)"));
        try (ShimClient client = ShimClient.connect(loop.group(), socket, namespace, timeout)) {
            PidsResponse r = ShimClient.await(client.pids(PidsRequest.newBuilder().setId(id).build(), timeout));
            List<TaskProcess> out = new ArrayList<>(r.getProcessesCount());
            for (ProcessInfo p : r.getProcessesList()) {
                out.add(new TaskProcess(p.getPid(), execId(p)));
            }
            return List.copyOf(out);
        }
    }

    private static Optional<String> execId(ProcessInfo p) {
        if (p.hasInfo() && p.getInfo().getTypeUrl().endsWith(TaskService.PROCESS_DETAILS_TYPE)) {
            try {
                String e = ProcessDetails.parseFrom(p.getInfo().getValue()).getExecId();
                return e.isEmpty() ? Optional.empty() : Optional.of(e);
            } catch (InvalidProtocolBufferException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    private List<TaskSnapshot> query(List<Entry> entries) {
        Map<String, ShimClient> clients = new HashMap<>();
        Map<String, String> unreachable = new HashMap<>();
        List<CompletableFuture<TaskSnapshot>> pending = new ArrayList<>();
        try {
            for (Entry e : entries) {
                Optional<Path> socket;
                try {
                    socket = socketOf(e.dir());
                } catch (IoFailureException ex) {
                    pending.add(CompletableFuture.completedFuture(unknown(e, "cannot read its address: " + ex.getMessage())));
                    continue;
                }
                if (socket.isEmpty()) {
                    if (Files.isDirectory(e.dir())) {
                        pending.add(CompletableFuture.completedFuture(
                                unknown(e, "no shim address in the bundle (its shim is not started yet)")));
                    }
                    continue; // deleted while listing
                }
                String key = socket.get() + "\n" + e.namespace();
                ShimClient client = clients.get(key);
                if (client == null && !unreachable.containsKey(key)) {
                    try {
                        client = ShimClient.connect(loop.group(), socket.get(), e.namespace(), timeout);
                        clients.put(key, client);
                    } catch (RuntimeException ex) {
                        unreachable.put(key, "its shim does not answer at " + socket.get() + ": " + ex.getMessage());
                    }
                }
                if (client == null) {
                    pending.add(CompletableFuture.completedFuture(unknown(e, unreachable.get(key))));
                    continue;
                }
                pending.add(client.state(StateRequest.newBuilder().setId(e.id()).build(), timeout)
                        .handle((r, ex) -> {
                            if (ex != null) {
                                Throwable cause = ex instanceof CompletionException && ex.getCause() != null
                                        ? ex.getCause() : ex;
                                return unknown(e, "its shim did not report its state: " + cause.getMessage());
                            }
                            TaskState s = TaskService.toState(r);
                            return new TaskSnapshot(e.namespace(), e.id(), e.dir(), s.pid(), s.status(), s.exit(),
                                    Optional.empty());
                        }));
            }
            List<TaskSnapshot> out = new ArrayList<>(pending.size());
            for (CompletableFuture<TaskSnapshot> f : pending) {
                out.add(await(f));
            }
            out.sort(ORDER);
            return List.copyOf(out);
        } finally {
            clients.values().forEach(ShimClient::close);
        }
    }

    private static TaskSnapshot await(CompletableFuture<TaskSnapshot> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new dev.berth.api.CanceledException("interrupted while asking shims for their tasks' state");
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    private static TaskSnapshot unknown(Entry e, String reason) {
        return TaskSnapshot.unknown(e.namespace(), e.id(), e.dir(), reason);
    }

    private static Optional<Path> socketOf(Path dir) {
        return Bundle.at(dir).socket();
    }

    private List<Entry> bundles(String namespace) {
        List<Entry> out = new ArrayList<>();
        for (Path dir : children(stateDir.resolve("tasks").resolve(namespace))) {
            out.add(new Entry(namespace, dir.getFileName().toString(), dir));
        }
        return out;
    }

    /** Subdirectories, without the {@code .<id>.<n>} ones of bundles being deleted. */
    private static List<Path> children(Path dir) {
        try (var entries = Files.list(dir)) {
            return entries.filter(p -> !p.getFileName().toString().startsWith(".") && Files.isDirectory(p))
                    .sorted().toList();
        } catch (NoSuchFileException | NotDirectoryException e) {
            return List.of();
        } catch (IOException e) {
            throw IoFailureException.of("cannot list " + dir, e);
        }
    }

    private Path bundleDir(String namespace, String id) {
        return stateDir.resolve("tasks").resolve(checkName("namespace", namespace)).resolve(checkName("id", id));
    }

    private static String checkName(String what, String name) {
        if (name == null || name.isEmpty() || name.startsWith(".") || name.contains("/") || name.contains("\0")) {
            throw new InvalidArgumentException("invalid task " + what + " \"" + name + "\"");
        }
        return name;
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new FailedPreconditionException("task inspector of " + stateDir + " is closed");
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            loop.close();
        }
    }
}
