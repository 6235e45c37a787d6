package dev.berth;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.Labels;
import dev.berth.api.Mount;
import dev.berth.api.NotFoundException;
import dev.berth.api.container.ContainerRecord;
import dev.berth.api.oci.runtime.Process;
import dev.berth.api.oci.runtime.RuntimeSpecJson;
import dev.berth.api.oci.runtime.Spec;
import dev.berth.api.task.ExecConfig;
import dev.berth.api.task.RunResult;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.metadata.internal.NamespacedMetadata;
import dev.berth.network.Attachment;
import dev.berth.runtime.TaskOption;
import dev.berth.runtime.TaskOptions;
import dev.berth.runtime.spec.RootfsUsers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * A handle on one container: its record ({@link #info()}), its task, and changes to it. The record is
 * read afresh by each call, so a handle sees changes made by other handles and processes. Thread-safe.
 */
public final class Container {
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
    private final Namespace ns;
    private final String id;

    Container(Namespace ns, String id) {
        this.ns = ns;
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** The namespace's name. */
    public String namespace() {
        return ns.name();
    }

    /**
     * The container's record: image, runtime, spec, snapshot, labels, times.
     *
     * @throws NotFoundException if it was deleted
     */
    public ContainerRecord info() {
        return md().containers().get(id);
    }

    /** The image the container was created from ("" for none). */
    public String image() {
        return info().image();
    }

    public Map<String, String> labels() {
        return info().labels();
    }

    /** The OCI runtime spec. */
    public Spec spec() {
        return RuntimeSpecJson.parse(info().spec());
    }

    /**
     * The container's place on its network (address, published ports, aliases, namespace file) while it
     * is attached: from its task's creation until the container is deleted. Empty for the network modes
     * none, host and another container's namespace.
     */
    public Optional<Attachment> network() {
        return ContainerNetwork.attachment(ns, id);
    }

    /** The container's IPv4 address on its network. */
    public Optional<String> ip() {
        return network().map(Attachment::ip);
    }

    /**
     * The host port that TCP {@code containerPort} is published on.
     *
     * @throws NotFoundException if the container is not attached or does not publish that port
     */
    public int port(int containerPort) {
        return port(containerPort, "tcp");
    }

    /** The host port that {@code containerPort} over {@code protocol} (tcp or udp) is published on. */
    public int port(int containerPort, String protocol) {
        Attachment a = network().orElseThrow(() -> new NotFoundException(this + " is not attached to a network"));
        return a.port(containerPort, protocol).orElseThrow(() -> new NotFoundException(this + " does not publish "
                + containerPort + "/" + protocol)).hostPort();
    }

    /** Sets labels (an empty value removes one); other labels stay. */
    public Container setLabels(Map<String, String> changes) {
        Objects.requireNonNull(changes, "changes");
        var current = info();
        TreeMap<String, String> labels = new TreeMap<>(current.labels());
        changes.forEach((k, v) -> {
            if (v == null || v.isEmpty()) {
                labels.remove(k);
            } else {
                Labels.validate(k, v);
                labels.put(k, v);
            }
        });
        md().containers().update(withLabels(current, labels), "labels");
        return this;
    }

    /** Replaces the spec by {@code change(spec)}; a running task keeps the spec it started with. */
    public Container updateSpec(UnaryOperator<Spec> change) {
        Objects.requireNonNull(change, "change");
        var current = info();
        Spec next = Objects.requireNonNull(change.apply(RuntimeSpecJson.parse(current.spec())), "new spec");
        var updated = new ContainerRecord(current.id(), current.labels(), current.image(),
                current.runtime(), RuntimeSpecJson.toJson(next), current.snapshotter(), current.snapshotKey(),
                current.createdAt(), current.updatedAt(), current.extensions());
        md().containers().update(updated, "spec");
        return this;
    }

    private static ContainerRecord withLabels(ContainerRecord c,
                                                             Map<String, String> labels) {
        return new ContainerRecord(c.id(), labels, c.image(), c.runtime(), c.spec(),
                c.snapshotter(), c.snapshotKey(), c.createdAt(), c.updatedAt(), c.extensions());
    }

    /** {@link #newTask(TaskOption...)} with {@code stdio} ({@link TaskOptions#stdio}). */
    public Task newTask(Stdio stdio) {
        return newTask(TaskOptions.stdio(stdio));
    }

    /**
     * Creates the container's task (not started: call {@link Task#start()}) with its root file system
     * from the container's snapshot, through the container's runtime, as containerd's
     * {@code container.NewTask(ctx, ioCreator, opts...)}: the container's spec, rootfs, terminal and
     * runtime first, then {@code options} in order (stdio is discarded unless one sets it).
     *
     * @throws dev.berth.api.AlreadyExistsException if the container already has a task
     */
    public Task newTask(TaskOption... options) {
        var record = info();
        List<Mount> rootfs = record.snapshotKey().isEmpty() ? List.of()
                : md().snapshotter(record.snapshotter()).mounts(record.snapshotKey());
        Process process = RuntimeSpecJson.parse(record.spec()).process();
        return newTask(record, rootfs, process != null && Boolean.TRUE.equals(process.terminal()),
                List.of(options));
    }

    /** The task of a container just created, from what creating it returned. */
    Task newTask(Containers.Created created, List<TaskOption> options) {
        return newTask(created.record(), created.rootfs(), created.terminal(), options);
    }

    private Task newTask(ContainerRecord record, List<Mount> rootfs, boolean terminal,
                         List<TaskOption> options) {
        if (record.labels().containsKey(SessionOwner.SESSION_LABEL)) {
            // the runtime's session reaper removes the task if this JVM dies; the record goes at the next open
            List<TaskOption> scoped = new java.util.ArrayList<>();
            scoped.add(TaskOptions.sessionScoped(true));
            scoped.addAll(options);
            options = scoped;
        }
        ContainerNetwork network = ContainerNetwork.fromLabels(record.labels());
        // the namespace exists now; CNI ADD runs while the shim starts and runc creates the process, and
        // ends before this returns (so before the task can start)
        var attaching = network.beginForTask(ns, id);
        dev.berth.api.internal.StepTimes.mark("net-begin");
        Task task = null;
        try {
            task = ns.berth().runtime().create(taskConfig(record, rootfs, terminal, options));
            dev.berth.api.internal.StepTimes.mark("runtime-create");
            if (attaching != null) {
                ContainerNetwork.join(attaching);
                dev.berth.api.internal.StepTimes.mark("cni-join");
            }
            return task;
        } catch (RuntimeException e) {
            if (task != null) {
                try {
                    task.delete(true);
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (attaching != null) {
                ContainerNetwork.settle(attaching);
                try {
                    ns.berth().networks().detach(ns.name(), id);
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private TaskConfig taskConfig(ContainerRecord record, List<Mount> rootfs, boolean terminal,
                                  List<TaskOption> options) {
        TaskConfig.Builder config = TaskConfig.builder(id)
                .namespace(ns.name())
                .spec(record.spec())
                .rootfs(rootfs)
                .terminal(terminal)
                .runtime(record.runtime().name())
                .runcOptions(RuncOptionsCodec.decode(record.runtime()));
        return TaskOption.applyAll(config, options).build();
    }

    /**
     * The container's task, if it has one: created by this JVM's runtime, by another live process or left by
     * an earlier one (the runtime is started then, and finds it by its bundle).
     */
    public Optional<Task> task() {
        var rt = ns.berth().runtimeIfStarted();
        if (rt == null) {
            if (!Files.exists(bundle())) {
                return Optional.empty();
            }
            try {
                rt = ns.berth().runtime();
            } catch (FailedPreconditionException e) {
                throw new FailedPreconditionException("container " + id + " in namespace " + ns.name()
                        + " has a task (bundle " + bundle() + ") held by another process: " + e.getMessage());
            }
        }
        return rt.get(ns.name(), id);
    }

    /**
     * Runs {@code args} in the container's running task, as the container's own process does (user,
     * environment, working directory), and returns its exit code and output, byte for byte.
     *
     * @throws FailedPreconditionException if the container has no running task
     */
    public RunResult exec(String... args) throws InterruptedException {
        return exec(ExecOptions.builder(args).build());
    }

    /**
     * Runs a command in the container's running task with a fresh exec id, waits for it and returns its exit
     * code and output, byte for byte. A user given by name is looked up in the container's own
     * {@code /etc/passwd} and {@code /etc/group} (read inside its root, never following links out of it).
     *
     * @throws FailedPreconditionException if the container has no running task
     * @throws dev.berth.api.InvalidArgumentException if the user or group is not in the container
     */
    public RunResult exec(ExecOptions options) throws InterruptedException {
        Objects.requireNonNull(options, "options");
        Task task = runningTask("exec " + options.args());
        ExecConfig.Builder b = ExecConfig.builder(newExecId()).args(options.args());
        options.env().forEach(b::env);
        if (options.cwd() != null) {
            b.cwd(options.cwd());
        }
        if (options.user() != null) {
            b.user(RootfsUsers.resolve(processRoot(task), options.user()));
        }
        return task.run(b.build(), options.stdin());
    }

    private static String newExecId() {
        byte[] r = new byte[8];
        RANDOM.nextBytes(r);
        return "exec-" + java.util.HexFormat.of().formatHex(r);
    }

    private Task runningTask(String what) {
        return task().filter(Task::isAlive).orElseThrow(() -> new FailedPreconditionException(
                "cannot " + what + ": " + this + " has no running task"));
    }

    private static Path processRoot(Task task) {
        return Path.of("/proc", Integer.toString(task.pid()), "root");
    }

    /**
     * Writes {@code content} to the file {@code path} in the container, with permission bits {@code mode}
     * (e.g. {@code 0644}) and owner root, creating missing directories (0755). Works before the container's
     * task exists (into its snapshot) and while it runs (through the process's own view of its root, so a
     * tmpfs or volume mounted in the container is reached too). Symlinks on the way are followed inside
     * the container's root, never on the host.
     *
     * @throws dev.berth.api.InvalidArgumentException for a relative path, one with {@code ..}, or one
     *         naming something other than a regular file
     */
    public void copyTo(String path, byte[] content, int mode) {
        copyTo(path, content, mode, 0, 0);
    }

    /** Like {@link #copyTo(String, byte[], int)}, owned by {@code uid:gid}. */
    public void copyTo(String path, byte[] content, int mode, int uid, int gid) {
        Objects.requireNonNull(content, "content");
        withRootfs(false, root -> {
            RootfsFiles.write(root, path, new java.io.ByteArrayInputStream(content), mode, uid, gid);
            return null;
        });
    }

    /** Copies the host's regular file {@code hostFile} to {@code path} in the container, with its permission bits. */
    public void copyTo(String path, Path hostFile) {
        Objects.requireNonNull(hostFile, "hostFile");
        int mode;
        try {
            if (!Files.isRegularFile(hostFile)) {
                throw new dev.berth.api.InvalidArgumentException(hostFile + " is not a regular file on the host");
            }
            mode = (Integer) Files.getAttribute(hostFile, "unix:mode") & 07777;
        } catch (java.io.IOException e) {
            throw new dev.berth.api.IoFailureException("cannot read " + hostFile + ": " + e.getMessage(), e);
        }
        withRootfs(false, root -> {
            try (java.io.InputStream in = Files.newInputStream(hostFile)) {
                RootfsFiles.write(root, path, in, mode, 0, 0);
            } catch (java.io.IOException e) {
                throw new dev.berth.api.IoFailureException("cannot read " + hostFile + ": " + e.getMessage(), e);
            }
            return null;
        });
    }

    /**
     * The bytes of the regular file {@code path} in the container (running or not).
     *
     * @throws NotFoundException if there is no such file
     */
    public byte[] readFile(String path) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        withRootfs(true, root -> RootfsFiles.read(root, path, out));
        return out.toByteArray();
    }

    /** Copies the regular file {@code path} in the container to {@code hostFile} (replaced), keeping its permission bits. */
    public void copyFrom(String path, Path hostFile) {
        Objects.requireNonNull(hostFile, "hostFile");
        Path tmp = hostFile.resolveSibling("." + hostFile.getFileName() + "." + newExecId() + ".tmp");
        try {
            RootfsFiles.FileInfo info;
            try (java.io.OutputStream out = Files.newOutputStream(tmp)) {
                info = withRootfs(true, root -> RootfsFiles.read(root, path, out));
            }
            Files.setPosixFilePermissions(tmp, permissions(info.mode()));
            Files.move(tmp, hostFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (java.io.IOException e) {
            throw new dev.berth.api.IoFailureException("cannot write " + hostFile + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (java.io.IOException ignored) {
                // best effort: a leftover temporary file beside the target
            }
        }
    }

    private static java.util.Set<java.nio.file.attribute.PosixFilePermission> permissions(int mode) {
        var all = java.nio.file.attribute.PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE
        var set = java.util.EnumSet.noneOf(java.nio.file.attribute.PosixFilePermission.class);
        for (int i = 0; i < 9; i++) {
            if ((mode & (1 << (8 - i))) != 0) {
                set.add(all[i]);
            }
        }
        return set;
    }

    /**
     * Runs {@code fn} on the container's root as the host sees it: the running process's {@code /proc/<pid>/root}
     * (its own mounts included), an exited task's mounted bundle rootfs, or, without a task, its snapshot
     * mounted for the call.
     */
    private <T> T withRootfs(boolean readOnly, java.util.function.Function<Path, T> fn) {
        var record = info();
        Optional<Task> task = task();
        if (task.isPresent()) {
            Task t = task.get();
            if (t.isAlive()) {
                return fn.apply(processRoot(t));
            }
            return fn.apply(t.bundle().resolve("rootfs"));
        }
        if (record.snapshotKey().isEmpty()) {
            throw new FailedPreconditionException(this + " has no snapshot of its own to copy files to or from");
        }
        List<Mount> mounts = md().snapshotter(record.snapshotter()).mounts(record.snapshotKey());
        return ns.containers().withMount(mounts, readOnly, fn);
    }

    private Path bundle() {
        return ns.berth().stateDir().resolve("tasks").resolve(ns.name()).resolve(id);
    }

    /**
     * Deletes the container and its snapshot. A stopped task is deleted first, also one an earlier process
     * created.
     *
     * @throws FailedPreconditionException if the container's task is still running
     * @throws NotFoundException if the container does not exist
     */
    public void delete() {
        var record = info();
        Optional<Task> task = task();
        if (task.isPresent()) {
            Task t = task.get();
            if (t.isAlive()) {
                throw new FailedPreconditionException("container " + id + " in namespace " + ns.name()
                        + " has a task that has not exited (pid " + t.pid() + "): kill and delete it first");
            }
            t.delete();
        }
        removeRecords(record, false);
    }

    /**
     * Removes the container's snapshot and record, in one transaction so neither outlives the other; for
     * a container whose task is already deleted. An {@code ephemeral} container's (run with rm) removal
     * does not wait for the disk, as its creation did not.
     */
    void removeRecords(ContainerRecord record, boolean ephemeral) {
        removeRecords(record, ephemeral, true);
    }

    /** As {@link #removeRecords(ContainerRecord, boolean)}; {@code detach} false: its network is being detached. */
    void removeRecords(ContainerRecord record, boolean ephemeral, boolean detach) {
        if (detach) {
            ContainerNetwork.detach(ns, id, record.labels());
        }
        java.util.function.Supplier<Void> work = () -> {
            if (!record.snapshotKey().isEmpty()) {
                try {
                    md().snapshotter(record.snapshotter()).remove(record.snapshotKey());
                } catch (NotFoundException alreadyGone) {
                    // removed by hand or by an earlier, interrupted delete
                }
            }
            md().containers().delete(id);
            return null;
        };
        if (ephemeral) {
            md().atomicallyEphemeral(work);
        } else {
            md().atomically(work);
        }
    }

    private NamespacedMetadata md() {
        return ns.metadata();
    }

    @Override
    public String toString() {
        return "container " + id + " in namespace " + ns.name();
    }
}
