package dev.berth.runtime.internal;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.api.BerthException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.oci.runtime.LinuxResources;
import dev.berth.api.oci.runtime.Process;
import dev.berth.api.oci.runtime.RuntimeSpecJson;
import dev.berth.api.task.CheckpointConfig;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.RuncOptions;
import dev.berth.api.task.TaskMetrics;
import dev.berth.api.task.TaskProcess;
import dev.berth.api.task.TaskState;
import dev.berth.api.task.TaskStatus;
import dev.berth.runtime.internal.proto.runc.CheckpointOptions;
import dev.berth.runtime.internal.proto.runc.Options;
import dev.berth.runtime.internal.proto.runc.ProcessDetails;
import dev.berth.runtime.internal.proto.task.CheckpointTaskRequest;
import dev.berth.runtime.internal.proto.task.CloseIORequest;
import dev.berth.runtime.internal.proto.task.CreateTaskRequest;
import dev.berth.runtime.internal.proto.task.DeleteRequest;
import dev.berth.runtime.internal.proto.task.DeleteResponse;
import dev.berth.runtime.internal.proto.task.ExecProcessRequest;
import dev.berth.runtime.internal.proto.task.KillRequest;
import dev.berth.runtime.internal.proto.task.PauseRequest;
import dev.berth.runtime.internal.proto.task.PidsRequest;
import dev.berth.runtime.internal.proto.task.PidsResponse;
import dev.berth.runtime.internal.proto.task.ResizePtyRequest;
import dev.berth.runtime.internal.proto.task.ResumeRequest;
import dev.berth.runtime.internal.proto.task.StartRequest;
import dev.berth.runtime.internal.proto.task.StateRequest;
import dev.berth.runtime.internal.proto.task.StateResponse;
import dev.berth.runtime.internal.proto.task.StatsRequest;
import dev.berth.runtime.internal.proto.task.UpdateTaskRequest;
import dev.berth.runtime.internal.proto.task.WaitRequest;
import dev.berth.runtime.internal.proto.types.ProcessInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The task API of one task on its shim, as containerd's {@code shimTask} wraps the task service: typed
 * calls on {@link ShimClient} for one container id, each with the runtime's deadline ({@code Wait}
 * excepted). An empty exec id addresses the init process.
 */
final class TaskService {
    private static final Logger log = LoggerFactory.getLogger(TaskService.class);
    static final String RUNC_OPTIONS_TYPE = "containerd.runc.v1.Options";
    static final String CHECKPOINT_OPTIONS_TYPE = "containerd.runc.v1.CheckpointOptions";
    static final String PROCESS_DETAILS_TYPE = "containerd.runc.v1.ProcessDetails";
    static final String PROCESS_TYPE = "types.containerd.io/opencontainers/runtime-spec/1/Process";
    static final String RESOURCES_TYPE = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";

    private final ShimClient client;
    private final String namespace;
    private final String id;
    private final Duration timeout;

    TaskService(ShimClient client, String namespace, String id, Duration timeout) {
        this.client = client;
        this.namespace = namespace;
        this.id = id;
        this.timeout = timeout;
    }

    String id() {
        return id;
    }

    boolean isOpen() {
        return client.isOpen();
    }

    static Any runcOptions(RuncOptions o, Path defaultRoot) {
        Options options = Options.newBuilder()
                .setBinaryName(o.binaryName())
                .setRoot(o.root().orElse(defaultRoot).toString())
                .setSystemdCgroup(o.systemdCgroup())
                .setNoPivotRoot(o.noPivotRoot())
                .setNoNewKeyring(o.noNewKeyring())
                .setShimCgroup(o.shimCgroup())
                .setIoUid(o.ioUid())
                .setIoGid(o.ioGid())
                .setCriuPath(o.criuPath())
                .build();
        return Any.newBuilder().setTypeUrl(RUNC_OPTIONS_TYPE).setValue(options.toByteString()).build();
    }

    /** {@code Create}; returns the init pid. The request's id is this task's. */
    int create(CreateTaskRequest.Builder request, Path shimBinary) {
        try {
            return ShimClient.await(client.create(request.setId(id).build(), timeout)).getPid();
        } catch (BerthException e) {
            BerthException named = BerthException.fromStatus(e.grpcCode(), "cannot create task " + namespace + "/"
                    + id + " with " + shimBinary + ": " + e.getMessage() + ShimBinaries.missingRuntimeHint(e.getMessage()));
            named.initCause(e);
            throw named;
        }
    }

    int start(String execId) {
        return ShimClient.await(client.start(StartRequest.newBuilder().setId(id).setExecId(execId).build(), timeout))
                .getPid();
    }

    TaskState state() {
        return toState(ShimClient.await(client.state(StateRequest.newBuilder().setId(id).build(), timeout)));
    }

    /**
     * The exit the shim reports for the init process ({@code execId} empty) or an exec, if that process has
     * exited: an exit event arriving on the events socket is acted on only once its shim confirms it.
     */
    Optional<ExitStatus> confirmedExit(String execId) {
        StateResponse r;
        try {
            r = ShimClient.await(client.state(StateRequest.newBuilder().setId(id).setExecId(execId).build(), timeout));
        } catch (RuntimeException e) {
            log.debug("cannot confirm the exit of {}/{} {}: {}", namespace, id, execId, e.toString());
            return Optional.empty();
        }
        if (r.getStatus() != dev.berth.runtime.internal.proto.types.Status.STOPPED) {
            log.warn("an exit event for {}/{} {} that its shim does not confirm (it reports {}) was ignored",
                    namespace, id, execId, r.getStatus());
            return Optional.empty();
        }
        return Optional.of(new ExitStatus(r.getExitStatus(), ShimEventDecoder.instant(r.getExitedAt())));
    }

    static TaskState toState(StateResponse r) {
        TaskStatus status = switch (r.getStatus()) {
            case CREATED -> TaskStatus.CREATED;
            case RUNNING -> TaskStatus.RUNNING;
            case STOPPED -> TaskStatus.STOPPED;
            case PAUSED -> TaskStatus.PAUSED;
            case PAUSING -> TaskStatus.PAUSING;
            default -> TaskStatus.UNKNOWN;
        };
        Optional<ExitStatus> exitStatus = status == TaskStatus.STOPPED
                ? Optional.of(new ExitStatus(r.getExitStatus(), ShimEventDecoder.instant(r.getExitedAt())))
                : Optional.empty();
        return new TaskState(r.getId(), Path.of(r.getBundle()), r.getPid(), status, r.getTerminal(), exitStatus);
    }

    void kill(String execId, int signal, boolean all) {
        checkSignal(signal);
        ShimClient.await(client.kill(KillRequest.newBuilder().setId(id).setExecId(execId).setSignal(signal)
                .setAll(all).build(), timeout));
    }

    static void checkSignal(int signal) {
        if (signal <= 0 || signal > 64) {
            throw new InvalidArgumentException("signal must be 1..64, got " + signal);
        }
    }

    DeleteResponse delete(String execId) {
        return delete(execId, timeout);
    }

    DeleteResponse delete(String execId, Duration deadline) {
        return ShimClient.await(client.delete(DeleteRequest.newBuilder().setId(id).setExecId(execId).build(), deadline));
    }

    static ExitStatus exitStatus(DeleteResponse r) {
        return new ExitStatus(r.getExitStatus(), r.hasExitedAt() ? ShimEventDecoder.instant(r.getExitedAt()) : Instant.now());
    }

    /** {@code Wait}, without a deadline: completes when the process exits. */
    CompletableFuture<ExitStatus> waitFor(String execId) {
        return client.waitFor(WaitRequest.newBuilder().setId(id).setExecId(execId).build(), null)
                .thenApply(r -> new ExitStatus(r.getExitStatus(), ShimEventDecoder.instant(r.getExitedAt())));
    }

    void closeStdin(String execId) {
        ShimClient.await(client.closeIO(CloseIORequest.newBuilder().setId(id).setExecId(execId).setStdin(true).build(),
                timeout));
    }

    void resizePty(String execId, int columns, int rows) {
        if (columns <= 0 || rows <= 0) {
            throw new InvalidArgumentException("terminal size must be positive, got " + columns + "x" + rows);
        }
        ShimClient.await(client.resizePty(ResizePtyRequest.newBuilder().setId(id).setExecId(execId).setWidth(columns)
                .setHeight(rows).build(), timeout));
    }

    void exec(String execId, boolean terminal, TaskIO io, Process process) {
        Any spec = Any.newBuilder().setTypeUrl(PROCESS_TYPE).setValue(ByteString.copyFrom(RuntimeSpecJson.toJson(process)))
                .build();
        ShimClient.await(client.exec(ExecProcessRequest.newBuilder().setId(id).setExecId(execId).setTerminal(terminal)
                .setStdin(io.stdin()).setStdout(io.stdout()).setStderr(io.stderr()).setSpec(spec).build(), timeout));
    }

    List<TaskProcess> pids() {
        PidsResponse r = ShimClient.await(client.pids(PidsRequest.newBuilder().setId(id).build(), timeout));
        List<TaskProcess> out = new ArrayList<>(r.getProcessesCount());
        for (ProcessInfo p : r.getProcessesList()) {
            out.add(new TaskProcess(p.getPid(), execId(p)));
        }
        return out;
    }

    /** The exec id the runc shim attaches to a process it started, if any. */
    static Optional<String> execId(ProcessInfo p) {
        if (p.hasInfo() && p.getInfo().getTypeUrl().endsWith(PROCESS_DETAILS_TYPE)) {
            try {
                String e = ProcessDetails.parseFrom(p.getInfo().getValue()).getExecId();
                return e.isEmpty() ? Optional.empty() : Optional.of(e);
            } catch (InvalidProtocolBufferException e) {
                log.debug("unreadable process details for pid {}", p.getPid());
            }
        }
        return Optional.empty();
    }

    void pause() {
        ShimClient.await(client.pause(PauseRequest.newBuilder().setId(id).build(), timeout));
    }

    void resume() {
        ShimClient.await(client.resume(ResumeRequest.newBuilder().setId(id).build(), timeout));
    }

    void update(LinuxResources resources) {
        Any any = Any.newBuilder().setTypeUrl(RESOURCES_TYPE)
                .setValue(ByteString.copyFrom(RuntimeSpecJson.toJson(resources))).build();
        ShimClient.await(client.update(UpdateTaskRequest.newBuilder().setId(id).setResources(any).build(), timeout));
    }

    TaskMetrics stats() {
        Any stats = ShimClient.await(client.stats(StatsRequest.newBuilder().setId(id).build(), timeout)).getStats();
        return MetricsDecoder.decode(stats.getTypeUrl(), stats.getValue());
    }

    void checkpoint(CheckpointConfig cp) {
        CheckpointOptions.Builder options = CheckpointOptions.newBuilder()
                .setExit(cp.exit())
                .setOpenTcp(cp.openTcp())
                .setExternalUnixSockets(cp.externalUnixSockets())
                .setTerminal(cp.terminal())
                .setFileLocks(cp.fileLocks())
                .addAllEmptyNamespaces(cp.emptyNamespaces())
                .setCgroupsMode(cp.cgroupsMode())
                .setImagePath(cp.imageDir().toString());
        cp.workDir().ifPresent(w -> options.setWorkPath(w.toString()));
        Any any = Any.newBuilder().setTypeUrl(CHECKPOINT_OPTIONS_TYPE).setValue(options.build().toByteString()).build();
        try {
            ShimClient.await(client.checkpoint(CheckpointTaskRequest.newBuilder().setId(id)
                    .setPath(cp.imageDir().toString()).setOptions(any).build(), timeout));
        } catch (BerthException e) {
            throw named(e, "cannot checkpoint task " + namespace + "/" + id + " (CRIU)");
        }
    }

    private static BerthException named(BerthException e, String what) {
        BerthException named = BerthException.fromStatus(e.grpcCode(), what + ": " + e.getMessage());
        named.initCause(e);
        return named;
    }
}
