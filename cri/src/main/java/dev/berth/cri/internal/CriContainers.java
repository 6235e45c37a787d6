package dev.berth.cri.internal;

import dev.berth.Berth;
import dev.berth.Container;
import dev.berth.ContainerConfig;
import dev.berth.Namespace;
import dev.berth.api.CanceledException;
import dev.berth.api.DeadlineExceededException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.NotFoundException;
import dev.berth.api.container.ContainerRecord;
import dev.berth.api.oci.runtime.LinuxCpu;
import dev.berth.api.oci.runtime.LinuxMemory;
import dev.berth.api.oci.runtime.LinuxResources;
import dev.berth.api.oci.runtime.Spec;
import dev.berth.api.task.ExecConfig;
import dev.berth.api.task.ExecProcess;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskMetrics;
import dev.berth.cri.internal.proto.CheckpointContainerRequest;
import dev.berth.cri.internal.proto.CheckpointContainerResponse;
import dev.berth.cri.internal.proto.ContainerAttributes;
import dev.berth.cri.internal.proto.ContainerEventResponse;
import dev.berth.cri.internal.proto.ContainerEventType;
import dev.berth.cri.internal.proto.ContainerFilter;
import dev.berth.cri.internal.proto.ContainerMetadata;
import dev.berth.cri.internal.proto.ContainerResources;
import dev.berth.cri.internal.proto.ContainerState;
import dev.berth.cri.internal.proto.ContainerStats;
import dev.berth.cri.internal.proto.ContainerStatsFilter;
import dev.berth.cri.internal.proto.ContainerStatsRequest;
import dev.berth.cri.internal.proto.ContainerStatsResponse;
import dev.berth.cri.internal.proto.ContainerStatus;
import dev.berth.cri.internal.proto.ContainerStatusRequest;
import dev.berth.cri.internal.proto.ContainerStatusResponse;
import dev.berth.cri.internal.proto.CpuUsage;
import dev.berth.cri.internal.proto.CreateContainerRequest;
import dev.berth.cri.internal.proto.CreateContainerResponse;
import dev.berth.cri.internal.proto.ExecSyncRequest;
import dev.berth.cri.internal.proto.ExecSyncResponse;
import dev.berth.cri.internal.proto.FilesystemIdentifier;
import dev.berth.cri.internal.proto.FilesystemUsage;
import dev.berth.cri.internal.proto.ImageSpec;
import dev.berth.cri.internal.proto.KeyValue;
import dev.berth.cri.internal.proto.LinuxContainerResources;
import dev.berth.cri.internal.proto.LinuxContainerSecurityContext;
import dev.berth.cri.internal.proto.LinuxPodSandboxStats;
import dev.berth.cri.internal.proto.ListContainerStatsRequest;
import dev.berth.cri.internal.proto.ListContainerStatsResponse;
import dev.berth.cri.internal.proto.ListContainersRequest;
import dev.berth.cri.internal.proto.ListContainersResponse;
import dev.berth.cri.internal.proto.ListPodSandboxStatsRequest;
import dev.berth.cri.internal.proto.ListPodSandboxStatsResponse;
import dev.berth.cri.internal.proto.MemoryUsage;
import dev.berth.cri.internal.proto.MountPropagation;
import dev.berth.cri.internal.proto.NamespaceMode;
import dev.berth.cri.internal.proto.PodSandboxAttributes;
import dev.berth.cri.internal.proto.PodSandboxMetadata;
import dev.berth.cri.internal.proto.PodSandboxStats;
import dev.berth.cri.internal.proto.PodSandboxStatsRequest;
import dev.berth.cri.internal.proto.PodSandboxStatsResponse;
import dev.berth.cri.internal.proto.ProcessUsage;
import dev.berth.cri.internal.proto.RemoveContainerRequest;
import dev.berth.cri.internal.proto.RemoveContainerResponse;
import dev.berth.cri.internal.proto.ReopenContainerLogRequest;
import dev.berth.cri.internal.proto.ReopenContainerLogResponse;
import dev.berth.cri.internal.proto.Signal;
import dev.berth.cri.internal.proto.StartContainerRequest;
import dev.berth.cri.internal.proto.StartContainerResponse;
import dev.berth.cri.internal.proto.StopContainerRequest;
import dev.berth.cri.internal.proto.StopContainerResponse;
import dev.berth.cri.internal.proto.UInt64Value;
import dev.berth.cri.internal.proto.UpdateContainerResourcesRequest;
import dev.berth.cri.internal.proto.UpdateContainerResourcesResponse;
import dev.berth.runtime.TaskOptions;
import dev.berth.runtime.spec.SpecOption;
import dev.berth.runtime.spec.SpecOptions;
import dev.berth.sys.ProcessStart;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CRI containers: Berth containers in their pod's namespaces, created from the CRI config, their output
 * in a CRI log file, their exit (code, time, reason) recorded in the container's labels as it happens,
 * so a later server still reports it.
 */
abstract class CriContainers extends PodSandboxes {
    private static final Logger LOG = LoggerFactory.getLogger(CriContainers.class);
    static final int EXEC_OUTPUT_LIMIT = 16 * 1024 * 1024;
    static final Duration KILL_WAIT = Duration.ofSeconds(30);
    static final Duration OOM_EVENT_WAIT = Duration.ofMillis(500);

    /** One container. */
    final class Ctr {
        final String id;
        final String sandboxId;
        final CreateContainerRequest request;
        final Instant createdAt;
        final String imageRef;
        final String imageName;
        final int stopSignal;
        final Path logPath;
        volatile Task task;
        volatile CriLog log;
        volatile Instant startedAt;
        volatile Instant finishedAt;
        volatile int exitCode;
        volatile String reason = "";
        volatile String message = "";
        final CpuRate cpuRate = new CpuRate();
        /** The writable layer's last measured usage and when (nanoseconds since the epoch); guarded by this. */
        dev.berth.api.snapshot.Usage layerUsage;
        long layerUsageAt;
        boolean layerMeasuring;
        /** The resources as last set: the config's, then merged with each UpdateContainerResources. */
        volatile LinuxContainerResources resources;
        /** Completes when the shim reports an OOM kill in the container's cgroup. */
        final CompletableFuture<Void> oomSeen = new CompletableFuture<>();
        /** Completes once the exit is recorded and the task deleted. */
        final CompletableFuture<Void> exited = new CompletableFuture<>();
        /** The stdio attach connects to. */
        final ContainerIo io;

        Ctr(String id, String sandboxId, CreateContainerRequest request, Instant createdAt, String imageRef,
            String imageName, int stopSignal, Path logPath) {
            this.id = id;
            this.sandboxId = sandboxId;
            this.request = request;
            this.createdAt = createdAt;
            this.imageRef = imageRef;
            this.imageName = imageName;
            this.stopSignal = stopSignal;
            this.logPath = logPath;
            this.io = new ContainerIo(request.getConfig().getStdin(), request.getConfig().getStdinOnce());
            this.resources = request.getConfig().getLinux().getResources();
        }

        ContainerState state() {
            if (finishedAt != null) {
                return ContainerState.CONTAINER_EXITED;
            }
            if (startedAt != null) {
                return ContainerState.CONTAINER_RUNNING;
            }
            return ContainerState.CONTAINER_CREATED;
        }

        /** containerd's key: the sandbox's attempt is not part of it. */
        String reservedName() {
            ContainerMetadata m = request.getConfig().getMetadata();
            PodSandboxMetadata p = request.getSandboxConfig().getMetadata();
            return String.join("_", m.getName(), p.getName(), p.getNamespace(), p.getUid(),
                    Integer.toString(m.getAttempt()));
        }

        void closeLog() {
            CriLog l = log;
            if (l != null) {
                l.close();
            }
        }
    }

    CriContainers(Berth berth, CriRuntime.Settings settings, Namespace ns, ExecutorService exits) {
        super(berth, settings, ns, exits);
    }

    // ----- create -----

    public CreateContainerResponse createContainer(CreateContainerRequest request) {
        CriRuntime.checkOpen(closed);
        Pod pod = requirePod(request.getPodSandboxId());
        var config = request.getConfig();
        if (!config.hasMetadata() || config.getMetadata().getName().isEmpty()) {
            throw new InvalidArgumentException("container config needs metadata with a name");
        }
        if (!pod.ready()) {
            throw new FailedPreconditionException("pod sandbox " + pod.id + " is not ready");
        }
        CreateContainerRequest full = request.toBuilder().setPodSandboxId(pod.id)
                .setSandboxConfig(request.hasSandboxConfig() ? request.getSandboxConfig() : pod.config).build();
        CriImages.Found image = images.require(config.getImage().getImage());
        String id = CriRuntime.newId();
        Steps steps = new Steps("CreateContainer", id);
        steps.mark("image");
        Path logPath = config.getLogPath().isEmpty() || pod.config.getLogDirectory().isEmpty() ? null
                : Path.of(pod.config.getLogDirectory()).resolve(config.getLogPath());
        int stopSignal = stopSignal(config.getStopSignal(), image);
        Ctr c = new Ctr(id, pod.id, full, Instant.now(), image.id(), image.names().get(0).name(), stopSignal, logPath);
        reserve(c.reservedName(), id, "container");
        try {
            Map<String, String> labels = new HashMap<>();
            labels.put(CriState.KIND, "container");
            labels.put(CriState.SANDBOX, pod.id);
            labels.put(CriState.NAME, c.reservedName());
            ContainerConfig record = ContainerConfig.builder(id).image(c.imageName).labels(labels)
                    .spec(containerSpec(c, pod, image)).build();
            steps.mark("spec");
            unsynced(() -> ns.containers().create(record));
            steps.mark("create");
        } catch (RuntimeException e) {
            release(c.reservedName(), id);
            throw e;
        } finally {
            steps.log();
        }
        containers.put(id, c);
        publish(c, ContainerEventType.CONTAINER_CREATED_EVENT);
        return CreateContainerResponse.newBuilder().setContainerId(id).build();
    }

    /** The process args the CRI way: command replaces the entrypoint, args replace cmd. */
    static List<String> args(List<String> command, List<String> args, List<String> entrypoint, List<String> cmd) {
        List<String> out = new ArrayList<>();
        if (!command.isEmpty()) {
            out.addAll(command);
            out.addAll(args);
        } else {
            if (entrypoint != null) {
                out.addAll(entrypoint);
            }
            out.addAll(!args.isEmpty() ? args : cmd == null ? List.of() : cmd);
        }
        return out;
    }

    private static int stopSignal(Signal s, CriImages.Found image) {
        if (s != Signal.RUNTIME_DEFAULT && s != Signal.UNRECOGNIZED) {
            return Signals.number(s.name());
        }
        var ic = image.config().config();
        if (ic != null && ic.stopSignal() != null && !ic.stopSignal().isEmpty()) {
            return Signals.number(ic.stopSignal());
        }
        return 15;
    }

    private List<SpecOption> containerSpec(Ctr c, Pod pod, CriImages.Found image) {
        var config = c.request.getConfig();
        var ic = image.config().config();
        List<String> args = args(config.getCommandList(), config.getArgsList(), ic == null ? null : ic.entrypoint(),
                ic == null ? null : ic.cmd());
        if (args.isEmpty()) {
            throw new InvalidArgumentException("container " + config.getMetadata().getName()
                    + ": no command (neither the config nor image " + c.imageName + " gives one)");
        }
        List<SpecOption> spec = new ArrayList<>();
        spec.add(SpecOptions.annotation(CriState.CONFIG, Base64.getEncoder().encodeToString(c.request.toByteArray())));
        // the pod's containers run in its sandbox's shim, as containerd's CRI has them (one shim per pod)
        spec.add(SpecOptions.annotation(CriState.CONTAINER_TYPE, "container"));
        spec.add(SpecOptions.annotation(CriState.SANDBOX_ID, c.sandboxId));
        if (pod.shimGroup != null) {
            spec.add(SpecOptions.shimGroup(pod.shimGroup)); // several pods share this shim
        }
        spec.add(SpecOptions.args(args));
        List<String> env = new ArrayList<>();
        if (ic == null || ic.env() == null || ic.env().stream().noneMatch(e -> e.startsWith("HOSTNAME="))) {
            env.add("HOSTNAME=" + podHostname(pod.config)); // as containerd's CRI; the image's or the config's wins
        }
        for (KeyValue kv : config.getEnvsList()) {
            env.add(kv.getKey() + "=" + kv.getValue());
        }
        spec.add(SpecOptions.env(env));
        if (!config.getWorkingDir().isEmpty()) {
            spec.add(SpecOptions.cwd(config.getWorkingDir()));
        }
        if (config.getTty()) {
            spec.add(SpecOptions.terminal(true));
        }
        // the pod's namespaces, through its pause process
        Task pause = pod.pause;
        String proc = "/proc/" + pause.pid() + "/ns/";
        if (pod.netns != null) {
            spec.add(SpecOptions.joinNamespace("network", pod.netns.toString()));
            spec.add(SpecOptions.joinNamespace("uts", proc + "uts"));
        } else {
            spec.add(SpecOptions.hostNetwork(true));
            spec.add(SpecOptions.customize(CriRuntime.withoutNamespace("uts")));
        }
        LinuxContainerSecurityContext sc = config.getLinux().getSecurityContext();
        // unset is POD, the CRI's default (kubelet always says CONTAINER for a pod without shareProcessNamespace)
        NamespaceMode pid = sc.getNamespaceOptions().getPid();
        if (pid == NamespaceMode.NODE) {
            spec.add(SpecOptions.customize(CriRuntime.withoutNamespace("pid")));
        } else if (pid == NamespaceMode.POD) {
            spec.add(SpecOptions.joinNamespace("pid", proc + "pid"));
        } else if (pid == NamespaceMode.TARGET) {
            Ctr target = requireContainer(sc.getNamespaceOptions().getTargetId());
            Task t = target.task;
            if (t == null || !t.isAlive()) {
                throw new FailedPreconditionException("target container " + target.id + " is not running");
            }
            spec.add(SpecOptions.joinNamespace("pid", "/proc/" + t.pid() + "/ns/pid"));
        }
        if (pod.mode("ipc") == NamespaceMode.NODE) {
            spec.add(SpecOptions.customize(CriRuntime.withoutNamespace("ipc")));
        } else {
            spec.add(SpecOptions.joinNamespace("ipc", proc + "ipc"));
        }
        // pod files, unless a mount of the config replaces them
        List<String> targets = config.getMountsList().stream().map(m -> m.getContainerPath()).toList();
        for (String f : List.of("hostname", "hosts", "resolv.conf")) {
            if (!targets.contains("/etc/" + f)) {
                spec.add(SpecOptions.bindMount(pod.dir.resolve(f), "/etc/" + f, sc.getReadonlyRootfs()));
            }
        }
        if (!targets.contains("/dev/shm")) {
            PodShm.of(pod.dir, pod.mode("ipc") == NamespaceMode.NODE)
                    .ifPresent(shm -> spec.add(SpecOptions.mount(PodShm.mount(shm, false))));
        }
        spec.add(SpecOptions.customize(CriRuntime.withoutDefaultMounts("/run"))); // as containerd's CRI
        spec.add(SpecOptions.customize(CriRuntime.INHERITED_RLIMITS));
        for (var m : config.getMountsList()) {
            spec.add(SpecOptions.mount(mount(m)));
        }
        for (var d : config.getDevicesList()) {
            // read when the spec is built; a privileged container gets every host device and these too
            spec.add(SpecOptions.device(d.getHostPath(), d.getContainerPath(), d.getPermissions()));
        }
        if (config.getCDIDevicesCount() > 0) {
            throw new InvalidArgumentException("container " + config.getMetadata().getName()
                    + ": CDI devices are not supported (" + config.getCDIDevicesList().get(0).getName() + ")");
        }
        security(spec, sc);
        resources(spec, config.getLinux().getResources());
        if (!pod.config.getLinux().getCgroupParent().isEmpty()) {
            spec.add(SpecOptions.cgroupsPath(cgroupPath(pod.config.getLinux().getCgroupParent(), c.id)));
        }
        return spec;
    }

    private static dev.berth.api.oci.runtime.Mount mount(dev.berth.cri.internal.proto.Mount m) {
        if (m.getContainerPath().isEmpty() || !m.getContainerPath().startsWith("/")) {
            throw new InvalidArgumentException("mount container path must be absolute: \"" + m.getContainerPath() + "\"");
        }
        if (m.hasImage()) {
            throw new InvalidArgumentException("image volume mounts are not supported yet (" + m.getContainerPath() + ")");
        }
        Path host = Path.of(m.getHostPath());
        if (!host.isAbsolute()) {
            throw new InvalidArgumentException("mount host path must be absolute: \"" + m.getHostPath() + "\"");
        }
        try {
            if (!Files.exists(host)) {
                Files.createDirectories(host); // as containerd's CRI: a missing host directory is made
            }
            host = host.toRealPath();
        } catch (IOException e) {
            throw IoFailureException.of("cannot prepare mount source " + host, e);
        }
        List<String> options = new ArrayList<>(List.of("rbind"));
        options.add(m.getPropagation() == MountPropagation.PROPAGATION_BIDIRECTIONAL ? "rshared"
                : m.getPropagation() == MountPropagation.PROPAGATION_HOST_TO_CONTAINER ? "rslave" : "rprivate");
        options.add(m.getReadonly() ? "ro" : "rw");
        return new dev.berth.api.oci.runtime.Mount(m.getContainerPath(), "bind", host.toString(), options);
    }

    private static void security(List<SpecOption> spec, LinuxContainerSecurityContext sc) {
        if (sc.getPrivileged()) {
            spec.add(SpecOptions.privileged(true));
        } else {
            if (sc.hasCapabilities()) {
                if (sc.getCapabilities().getDropCapabilitiesCount() > 0) {
                    spec.add(SpecOptions.dropCapabilities(sc.getCapabilities().getDropCapabilitiesList().toArray(String[]::new)));
                }
                if (sc.getCapabilities().getAddCapabilitiesCount() > 0) {
                    spec.add(SpecOptions.addCapabilities(sc.getCapabilities().getAddCapabilitiesList().toArray(String[]::new)));
                }
            }
            seccomp(spec, sc.hasSeccomp() ? sc.getSeccomp() : null, sc.getSeccompProfilePath());
            // the request's lists, even empty ones, as containerd's CRI: kubelet sends its defaults for every
            // container and none for procMount Unmasked, so an empty list asks for no masking
            List<String> masked = sc.getMaskedPathsList();
            List<String> ro = sc.getReadonlyPathsList();
            spec.add(SpecOptions.customize(s -> s.withLinux(s.linux().withMaskedPaths(masked).withReadonlyPaths(ro))));
        }
        if (sc.hasRunAsUser()) {
            // without run_as_group, the uid's primary group in the image's /etc/passwd, else 0 (containerd's rule)
            spec.add(sc.hasRunAsGroup() ? SpecOptions.user(sc.getRunAsUser().getValue(), sc.getRunAsGroup().getValue())
                    : SpecOptions.user(Long.toString(sc.getRunAsUser().getValue())));
        } else if (!sc.getRunAsUsername().isEmpty()) {
            spec.add(SpecOptions.user(sc.hasRunAsGroup() ? sc.getRunAsUsername() + ":" + sc.getRunAsGroup().getValue()
                    : sc.getRunAsUsername()));
        } else if (sc.hasRunAsGroup()) {
            throw new InvalidArgumentException("run_as_group needs run_as_user or run_as_username");
        }
        if (sc.getSupplementalGroupsCount() > 0) {
            spec.add(SpecOptions.additionalGroups(sc.getSupplementalGroupsList().stream().map(String::valueOf)
                    .toArray(String[]::new)));
        }
        if (sc.getReadonlyRootfs()) {
            spec.add(SpecOptions.readOnlyRootfs(true));
        }
        // kubelet's allowPrivilegeEscalation (true unless said otherwise): setuid and file-capability binaries
        // work in a container unless the request sets no_new_privs
        spec.add(SpecOptions.noNewPrivileges(sc.getNoNewPrivs()));
    }

    private static void resources(List<SpecOption> spec, LinuxContainerResources r) {
        if (r.getMemoryLimitInBytes() > 0) {
            spec.add(SpecOptions.memoryLimit(r.getMemoryLimitInBytes()));
        }
        Long swap = swapLimit(r);
        if (swap != null) {
            spec.add(SpecOptions.memorySwap(swap));
        }
        if (r.getCpuShares() > 0) {
            spec.add(SpecOptions.cpuShares(r.getCpuShares()));
        }
        if (r.getCpuQuota() > 0) {
            spec.add(SpecOptions.cpuQuota(r.getCpuQuota(), r.getCpuPeriod() > 0 ? r.getCpuPeriod() : 100_000));
        }
        if (!r.getCpusetCpus().isEmpty()) {
            spec.add(SpecOptions.cpusetCpus(r.getCpusetCpus()));
        }
        if (!r.getCpusetMems().isEmpty()) {
            spec.add(SpecOptions.cpusetMems(r.getCpusetMems()));
        }
        if (r.getOomScoreAdj() != 0) {
            spec.add(SpecOptions.oomScoreAdj(CriRuntime.oomScoreAdj(r.getOomScoreAdj())));
        }
        if (r.getHugepageLimitsCount() > 0 || r.getUnifiedCount() > 0) {
            List<dev.berth.api.oci.runtime.LinuxHugepageLimit> pages = new ArrayList<>();
            for (var h : r.getHugepageLimitsList()) {
                if (Files.isDirectory(Path.of("/sys/kernel/mm/hugepages"))) {
                    pages.add(new dev.berth.api.oci.runtime.LinuxHugepageLimit(h.getPageSize(), h.getLimit()));
                }
            }
            Map<String, String> unified = r.getUnifiedMap();
            spec.add(SpecOptions.customize(s -> {
                LinuxResources cur = s.linux().resources() != null ? s.linux().resources() : LinuxResources.builder().build();
                LinuxResources.Builder b = LinuxResources.builder().devices(cur.devices()).memory(cur.memory())
                        .cpu(cur.cpu()).pids(cur.pids()).blockIo(cur.blockIo()).network(cur.network()).rdma(cur.rdma());
                b.hugepageLimits(pages.isEmpty() ? cur.hugepageLimits() : pages);
                b.unified(unified.isEmpty() ? cur.unified() : unified);
                return s.withLinux(s.linux().withResources(b.build()));
            }));
        }
    }

    /**
     * The memory+swap limit: the request's, else (as containerd's CRI) the memory limit itself where the kernel
     * accounts swap, so that a container does not swap unless asked to; null for none.
     */
    static Long swapLimit(LinuxContainerResources r) {
        if (r.getMemorySwapLimitInBytes() > 0) {
            return r.getMemorySwapLimitInBytes();
        }
        return r.getMemoryLimitInBytes() > 0 && SwapAccounting.AVAILABLE ? r.getMemoryLimitInBytes() : null;
    }

    /** Whether the host's memory cgroup accounts swap, checked once. */
    private static final class SwapAccounting {
        static final boolean AVAILABLE = available();

        private static boolean available() {
            if (Files.exists(Path.of("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"))) {
                return true; // cgroup v1 (or hybrid) with swap accounting on
            }
            try {
                // cgroup v2: the root has no memory.swap.max, so look in this process's own cgroup
                for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                    if (line.startsWith("0::")) {
                        return Files.exists(Path.of("/sys/fs/cgroup" + line.substring(3), "memory.swap.max"));
                    }
                }
            } catch (IOException e) {
                return false;
            }
            return false;
        }
    }

    /** The OCI resources of a CRI resources message, for a running task's update. */
    static LinuxResources ociResources(LinuxContainerResources r) {
        LinuxResources.Builder b = LinuxResources.builder();
        if (r.getMemoryLimitInBytes() > 0 || r.getMemorySwapLimitInBytes() > 0) {
            b.memory(LinuxMemory.builder().limit(r.getMemoryLimitInBytes() > 0 ? r.getMemoryLimitInBytes() : null)
                    .swap(swapLimit(r)).build());
        }
        LinuxCpu.Builder cpu = LinuxCpu.builder();
        boolean anyCpu = false;
        if (r.getCpuShares() > 0) {
            cpu.shares(r.getCpuShares());
            anyCpu = true;
        }
        if (r.getCpuQuota() != 0) {
            cpu.quota(r.getCpuQuota());
            anyCpu = true;
        }
        if (r.getCpuPeriod() > 0) {
            cpu.period(r.getCpuPeriod());
            anyCpu = true;
        }
        if (!r.getCpusetCpus().isEmpty()) {
            cpu.cpus(r.getCpusetCpus());
            anyCpu = true;
        }
        if (!r.getCpusetMems().isEmpty()) {
            cpu.mems(r.getCpusetMems());
            anyCpu = true;
        }
        if (anyCpu) {
            b.cpu(cpu.build());
        }
        if (r.getUnifiedCount() > 0) {
            b.unified(r.getUnifiedMap());
        }
        return b.build();
    }

    // ----- start, exit, stop, remove -----

    public StartContainerResponse startContainer(StartContainerRequest request) {
        CriRuntime.checkOpen(closed);
        Ctr c = requireContainer(request.getContainerId());
        synchronized (c) {
            if (c.state() != ContainerState.CONTAINER_CREATED || c.task != null) {
                throw new FailedPreconditionException("container " + c.id + " is " + c.state() + ", not created");
            }
            Pod pod = pods.get(c.sandboxId);
            if (pod == null || !pod.ready()) {
                throw new FailedPreconditionException("pod sandbox " + c.sandboxId + " of container " + c.id
                        + " is not ready");
            }
            if (c.logPath != null) {
                c.log = new CriLog(c.logPath, Clock.systemUTC());
            }
            // streamed even without a log, so that Attach has the output to hand on
            Stdio stdio = Stdio.of(c.io.stdinStream(), c.io.tee(c.log == null ? null : c.log.stream("stdout"), false),
                    c.io.tee(c.log == null ? null : c.log.stream("stderr"), true));
            Container container = ns.containers().get(c.id);
            Task task;
            Instant started;
            Steps steps = new Steps("StartContainer", c.id);
            try {
                steps.mark("log+record");
                try (PodShims.Busy busy = shims.creating(pod.shimGroup)) {
                    task = container.newTask(TaskOptions.stdio(stdio));
                }
                steps.mark("task");
                task.onOom(() -> c.oomSeen.complete(null));
                // taken before the start: a process that exits at once has its exit time (the shim's) before a
                // time read after the start returned, and startedAt must not follow finishedAt
                started = Instant.now();
                task.start();
                steps.mark("start");
            } catch (RuntimeException e) {
                container.task().ifPresent(t -> {
                    try {
                        t.delete(true);
                    } catch (RuntimeException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                });
                c.closeLog();
                c.log = null;
                steps.log();
                recordStartError(c, e);
                throw e;
            }
            c.task = task;
            c.startedAt = started;
            unsyncedRun(() -> container.setLabels(Map.of(CriState.STARTED, String.valueOf(CriRuntime.nanos(c.startedAt)))));
            steps.mark("labels");
            steps.log();
            watch(c, task);
        }
        publish(c, ContainerEventType.CONTAINER_STARTED_EVENT);
        return StartContainerResponse.getDefaultInstance();
    }

    /**
     * A container whose start failed has exited, as containerd's CRI reports it: exit code 128, reason
     * {@code StartError} and the error as the message, so that kubelet restarts it by its policy.
     */
    private void recordStartError(Ctr c, RuntimeException e) {
        c.exitCode = 128;
        c.reason = "StartError";
        String message = String.valueOf(e.getMessage());
        // a label holds at most 4096 bytes with its key: 1000 characters fit however they are encoded
        c.message = message.length() > 1000 ? message.substring(0, 1000) + "…" : message;
        c.finishedAt = Instant.now();
        c.exited.complete(null);
        try {
            unsyncedRun(() -> ns.containers().get(c.id).setLabels(Map.of(CriState.FINISHED,
                    String.valueOf(CriRuntime.nanos(c.finishedAt)), CriState.EXIT, "128", CriState.REASON, c.reason,
                    CriState.MESSAGE, c.message)));
        } catch (RuntimeException gone) {
            e.addSuppressed(gone);
        }
        publish(c, ContainerEventType.CONTAINER_STOPPED_EVENT);
    }

    private void watch(Ctr c, Task task) {
        task.onExit().whenCompleteAsync((status, error) -> recordExit(c, task, status), exits);
    }

    /**
     * Records the exit in the container's labels, then deletes the task (its shim goes). The exit is visible
     * to {@code ContainerStatus} before the delete: {@link Task#onExit()} completes only once the output is
     * pumped, so the log is whole already, and the {@code runc delete} behind the delete (~15 ms) is not
     * waited for by a kubelet that polls for the exit. {@link Ctr#exited} completes after the delete.
     */
    void recordExit(Ctr c, Task task, ExitStatus status) {
        try {
            synchronized (c) {
                if (c.finishedAt != null) {
                    return;
                }
                Steps steps = new Steps("ContainerExit", c.id);
                boolean oom = oomKilled(c, task, status);
                steps.mark("oom check");
                c.closeLog();
                c.exitCode = status == null ? 255 : status.code();
                c.reason = oom ? "OOMKilled" : c.exitCode == 0 ? "Completed" : "Error";
                c.finishedAt = status == null ? Instant.now() : status.exitedAt();
                try {
                    unsyncedRun(() -> ns.containers().get(c.id).setLabels(Map.of(CriState.FINISHED,
                            String.valueOf(CriRuntime.nanos(c.finishedAt)), CriState.EXIT, String.valueOf(c.exitCode),
                            CriState.REASON, c.reason)));
                } catch (NotFoundException gone) {
                    // removed meanwhile
                }
                steps.mark("labels");
                try {
                    task.delete();
                } catch (RuntimeException e) {
                    LOG.debug("deleting the task of container {}: {}", c.id, e.toString());
                }
                c.task = null;
                steps.mark("task delete");
                steps.log();
            }
            publish(c, ContainerEventType.CONTAINER_STOPPED_EVENT);
        } catch (RuntimeException e) {
            LOG.warn("cannot record the exit of container {}", c.id, e);
        } finally {
            c.exited.complete(null);
        }
    }

    /**
     * Whether the OOM killer ended the container: the shim's OOM event, or the cgroup's OOM counters. A
     * SIGKILLed container with no event yet waits briefly for it, as the shim reports the OOM and the exit
     * separately and the exit may come first.
     */
    private static boolean oomKilled(Ctr c, Task task, ExitStatus status) {
        if (c.oomSeen.isDone()) {
            return true;
        }
        try {
            if (task.oomEvents() > 0) {
                return true;
            }
        } catch (RuntimeException shimGone) {
            // the counters below may still answer
        }
        if (status == null || status.code() != 137) {
            return false;
        }
        try {
            TaskMetrics m = task.stats();
            if (m.memory() != null && (m.memory().oomKills() > 0 || m.memory().oomEvents() > 0)) {
                return true;
            }
        } catch (RuntimeException shimGone) {
            // wait for the event below
        }
        try {
            c.oomSeen.get(OOM_EVENT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException notOom) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public StopContainerResponse stopContainer(StopContainerRequest request) {
        CriRuntime.checkOpen(closed);
        Optional<Ctr> found = findContainer(request.getContainerId());
        if (found.isEmpty()) {
            return StopContainerResponse.getDefaultInstance(); // gone: stopping again succeeds
        }
        stop(found.get(), Duration.ofSeconds(Math.max(0, request.getTimeout())));
        return StopContainerResponse.getDefaultInstance();
    }

    /** Sends the stop signal, waits up to {@code grace}, then SIGKILL; returns once the exit is recorded. */
    void stop(Ctr c, Duration grace) {
        Task task = c.task;
        if (task == null) {
            return;
        }
        try {
            // exited: its exit is recorded and the task being deleted (its shim may be gone already)
            if (c.finishedAt == null && !grace.isZero() && c.stopSignal != 9) {
                killUnlessExited(c, task, c.stopSignal, false);
                try {
                    c.exited.get(grace.toMillis(), TimeUnit.MILLISECONDS);
                    return;
                } catch (java.util.concurrent.TimeoutException stillRunning) {
                    // SIGKILL below
                }
            }
            if (c.finishedAt == null) {
                killUnlessExited(c, task, 9, true);
            }
            c.exited.get(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CanceledException("interrupted while stopping container " + c.id);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new DeadlineExceededException("container " + c.id + " did not exit within " + KILL_WAIT
                    + " of SIGKILL");
        }
    }

    /**
     * Signals the task unless it exited: a failure once the exit is known (the shim answered that the process
     * is gone, or closed its connection after the task's delete) means the signal is not needed.
     */
    private static void killUnlessExited(Ctr c, Task task, int signal, boolean all) {
        try {
            task.kill(signal, all);
        } catch (NotFoundException | FailedPreconditionException exited) {
            // already stopped
        } catch (RuntimeException e) {
            if (c.finishedAt == null && task.isAlive()) {
                throw e;
            }
        }
    }

    @Override
    void stopContainersOf(String sandboxId) {
        for (Ctr c : containers.values()) {
            if (c.sandboxId.equals(sandboxId)) {
                stop(c, Duration.ZERO);
            }
        }
    }

    @Override
    void removeContainersOf(String sandboxId) {
        for (Ctr c : List.copyOf(containers.values())) {
            if (c.sandboxId.equals(sandboxId)) {
                remove(c);
            }
        }
    }

    public RemoveContainerResponse removeContainer(RemoveContainerRequest request) {
        CriRuntime.checkOpen(closed);
        findContainer(request.getContainerId()).ifPresent(this::remove);
        return RemoveContainerResponse.getDefaultInstance();
    }

    private void remove(Ctr c) {
        Steps steps = new Steps("RemoveContainer", c.id);
        try {
            stop(c, Duration.ZERO);
            steps.mark("stop");
            synchronized (c) {
                try {
                    Container container = ns.containers().get(c.id);
                    container.task().ifPresent(t -> t.delete(true));
                    steps.mark("task");
                    unsyncedRun(container::delete);
                    steps.mark("record+snapshot");
                } catch (NotFoundException alreadyGone) {
                    // removed before
                }
                c.closeLog();
                containers.remove(c.id);
                release(c.reservedName(), c.id);
            }
        } finally {
            steps.log();
        }
        publish(c, ContainerEventType.CONTAINER_DELETED_EVENT);
    }

    // ----- status and listing -----

    public ContainerStatusResponse containerStatus(ContainerStatusRequest request) {
        Ctr c = requireContainer(request.getContainerId());
        ContainerStatusResponse.Builder out = ContainerStatusResponse.newBuilder().setStatus(status(c));
        if (request.getVerbose()) {
            Task t = c.task;
            out.putInfo("info", "{\"pid\":" + (t == null ? 0 : t.pid()) + ",\"sandboxID\":\"" + c.sandboxId
                    + "\",\"image\":\"" + c.imageName + "\"}");
        }
        return out.build();
    }

    ContainerStatus status(Ctr c) {
        var config = c.request.getConfig();
        ContainerStatus.Builder s = ContainerStatus.newBuilder().setId(c.id).setMetadata(config.getMetadata())
                .setState(c.state()).setCreatedAt(CriRuntime.nanos(c.createdAt))
                .setStartedAt(CriRuntime.nanos(c.startedAt)).setFinishedAt(CriRuntime.nanos(c.finishedAt))
                .setImage(ImageSpec.newBuilder().setImage(c.imageName)).setImageRef(c.imageRef).setImageId(c.imageRef)
                .putAllLabels(config.getLabelsMap()).putAllAnnotations(config.getAnnotationsMap())
                .addAllMounts(config.getMountsList())
                .setResources(ContainerResources.newBuilder().setLinux(c.resources));
        if (c.logPath != null) {
            s.setLogPath(c.logPath.toString());
        }
        if (c.finishedAt != null) {
            s.setExitCode(c.exitCode).setReason(c.reason).setMessage(c.message);
        }
        Signal sig = Signals.cri(c.stopSignal);
        if (sig != null) {
            s.setStopSignal(sig);
        }
        return s.build();
    }

    @Override
    List<ContainerStatus> containerStatusesOf(String sandboxId) {
        return containers.values().stream().filter(c -> c.sandboxId.equals(sandboxId))
                .sorted(Comparator.comparing(c -> c.createdAt)).map(this::status).toList();
    }

    public ListContainersResponse listContainers(ListContainersRequest request) {
        ContainerFilter f = request.getFilter();
        ListContainersResponse.Builder out = ListContainersResponse.newBuilder();
        containers.values().stream().sorted(Comparator.comparing(c -> c.createdAt)).forEach(c -> {
            if (!f.getId().isEmpty() && !c.id.startsWith(f.getId())) {
                return;
            }
            if (!f.getPodSandboxId().isEmpty() && !c.sandboxId.startsWith(f.getPodSandboxId())) {
                return;
            }
            if (f.hasState() && f.getState().getState() != c.state()) {
                return;
            }
            var config = c.request.getConfig();
            if (!matches(config.getLabelsMap(), f.getLabelSelectorMap())) {
                return;
            }
            out.addContainers(dev.berth.cri.internal.proto.Container.newBuilder().setId(c.id).setPodSandboxId(c.sandboxId)
                    .setMetadata(config.getMetadata()).setImage(ImageSpec.newBuilder().setImage(c.imageName))
                    .setImageRef(c.imageRef).setImageId(c.imageRef).setState(c.state())
                    .setCreatedAt(CriRuntime.nanos(c.createdAt)).putAllLabels(config.getLabelsMap())
                    .putAllAnnotations(config.getAnnotationsMap()));
        });
        return out.build();
    }

    Optional<Ctr> findContainer(String id) {
        if (id.isEmpty()) {
            throw new InvalidArgumentException("a container id is needed");
        }
        Ctr exact = containers.get(id);
        if (exact != null) {
            return Optional.of(exact);
        }
        List<Ctr> byPrefix = containers.values().stream().filter(c -> c.id.startsWith(id)).toList();
        if (byPrefix.size() > 1) {
            throw new InvalidArgumentException("container id prefix \"" + id + "\" is ambiguous");
        }
        return byPrefix.stream().findFirst();
    }

    Ctr requireContainer(String id) {
        return findContainer(id).orElseThrow(() -> new NotFoundException("container \"" + id + "\" not found"));
    }

    // ----- running containers -----

    public CheckpointContainerResponse checkpointContainer(CheckpointContainerRequest request) {
        Ctr c = requireContainer(request.getContainerId());
        CriCheckpoints.checkpoint(c.id, c.task, request.getLocation());
        return CheckpointContainerResponse.getDefaultInstance();
    }

    public UpdateContainerResourcesResponse updateContainerResources(UpdateContainerResourcesRequest request) {
        Ctr c = requireContainer(request.getContainerId());
        LinuxContainerResources r = request.getLinux();
        Task t = c.task;
        if (t != null && t.isAlive()) {
            t.update(ociResources(r));
        } // else only the record, as containerd's CRI: a created container starts with these, an exited one keeps them
        synchronized (c) {
            LinuxContainerResources.Builder merged = c.resources.toBuilder().mergeFrom(r);
            if (r.getHugepageLimitsCount() > 0) {
                merged.clearHugepageLimits().addAllHugepageLimits(r.getHugepageLimitsList());
            }
            LinuxContainerResources last = merged.build();
            // the record keeps them for ContainerStatus after a server restart
            ns.containers().get(c.id).updateSpec(s -> {
                LinuxResources cur = s.linux().resources();
                LinuxResources next = ociResources(r);
                Map<String, String> annotations = new HashMap<>(s.annotations() == null ? Map.of() : s.annotations());
                annotations.put(CriState.RESOURCES, Base64.getEncoder().encodeToString(last.toByteArray()));
                return s.withLinux(s.linux().withResources(cur == null ? next : merge(cur, next)))
                        .withAnnotations(annotations);
            });
            c.resources = last;
        }
        return UpdateContainerResourcesResponse.getDefaultInstance();
    }

    private static LinuxResources merge(LinuxResources cur, LinuxResources next) {
        return LinuxResources.builder().devices(cur.devices()).pids(cur.pids()).blockIo(cur.blockIo())
                .network(cur.network()).rdma(cur.rdma()).hugepageLimits(cur.hugepageLimits())
                .memory(next.memory() != null ? next.memory() : cur.memory())
                .cpu(next.cpu() != null ? next.cpu() : cur.cpu())
                .unified(next.unified() != null ? next.unified() : cur.unified()).build();
    }

    public ReopenContainerLogResponse reopenContainerLog(ReopenContainerLogRequest request) {
        Ctr c = requireContainer(request.getContainerId());
        CriLog log = c.log;
        if (c.state() != ContainerState.CONTAINER_RUNNING || log == null) {
            throw new FailedPreconditionException("container " + c.id + " is not running (or logs nowhere)");
        }
        log.reopen();
        return ReopenContainerLogResponse.getDefaultInstance();
    }

    public ExecSyncResponse execSync(ExecSyncRequest request) {
        Ctr c = requireContainer(request.getContainerId());
        Task t = c.task;
        if (t == null || !t.isAlive()) {
            throw new FailedPreconditionException("container " + c.id + " is not running");
        }
        if (request.getCmdCount() == 0) {
            throw new InvalidArgumentException("ExecSync needs a command");
        }
        CappedStream out = new CappedStream();
        CappedStream err = new CappedStream();
        ExecProcess p = t.exec(ExecConfig.builder("exec-" + CriRuntime.newId().substring(0, 16))
                .args(request.getCmdList()).stdio(Stdio.of(null, out, err)).build());
        try {
            p.start();
            Optional<ExitStatus> status = request.getTimeout() > 0
                    ? p.waitFor(Duration.ofSeconds(request.getTimeout())) : Optional.of(p.waitFor());
            if (status.isEmpty()) {
                p.kill(9);
                p.waitFor(KILL_WAIT);
                throw new DeadlineExceededException("command " + request.getCmdList() + " in container " + c.id
                        + " timed out after " + request.getTimeout() + "s");
            }
            p.delete();
            return ExecSyncResponse.newBuilder().setStdout(com.google.protobuf.ByteString.copyFrom(out.bytes()))
                    .setStderr(com.google.protobuf.ByteString.copyFrom(err.bytes())).setExitCode(status.get().code())
                    .build();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CanceledException("interrupted while running a command in container " + c.id);
        } finally {
            try {
                p.close();
            } catch (RuntimeException ignored) {
                // deleted above or with the task
            }
        }
    }

    /** Keeps at most {@link #EXEC_OUTPUT_LIMIT} bytes and drops the rest, as the CRI asks. */
    private static final class CappedStream extends OutputStream {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            if (buf.size() < EXEC_OUTPUT_LIMIT) {
                buf.write(b);
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            int room = EXEC_OUTPUT_LIMIT - buf.size();
            if (room > 0) {
                buf.write(b, off, Math.min(room, len));
            }
        }

        synchronized byte[] bytes() {
            return buf.toByteArray();
        }
    }

    // ----- stats -----

    public ContainerStatsResponse containerStats(ContainerStatsRequest request) {
        return ContainerStatsResponse.newBuilder().setStats(stats(requireContainer(request.getContainerId()))).build();
    }

    public ListContainerStatsResponse listContainerStats(ListContainerStatsRequest request) {
        ContainerStatsFilter f = request.getFilter();
        ListContainerStatsResponse.Builder out = ListContainerStatsResponse.newBuilder();
        for (Ctr c : containers.values()) {
            if (c.state() != ContainerState.CONTAINER_RUNNING
                    || (!f.getId().isEmpty() && !c.id.startsWith(f.getId()))
                    || (!f.getPodSandboxId().isEmpty() && !c.sandboxId.startsWith(f.getPodSandboxId()))
                    || !matches(c.request.getConfig().getLabelsMap(), f.getLabelSelectorMap())) {
                continue;
            }
            out.addStats(stats(c));
        }
        return out.build();
    }

    ContainerStats stats(Ctr c) {
        return stats(c, metrics(c.task));
    }

    /** A live task's metrics; null when there is no task or it exited meanwhile. */
    private static TaskMetrics metrics(Task t) {
        if (t == null || !t.isAlive()) {
            return null;
        }
        try {
            return t.stats();
        } catch (RuntimeException e) {
            return null; // exited meanwhile
        }
    }

    private ContainerStats stats(Ctr c, TaskMetrics m) {
        var config = c.request.getConfig();
        ContainerStats.Builder s = ContainerStats.newBuilder().setAttributes(ContainerAttributes.newBuilder().setId(c.id)
                .setMetadata(config.getMetadata()).putAllLabels(config.getLabelsMap())
                .putAllAnnotations(config.getAnnotationsMap()));
        if (m == null) {
            return s.build();
        }
        long now = CriRuntime.nanos(Instant.now());
        s.setCpu(cpu(c.cpuRate, m, now)).setMemory(memory(m, now));
        writableLayer(c, now).ifPresent(s::setWritableLayer);
        return s.build();
    }

    /** CPU time, and its rate in nano-cores since {@code rate}'s previous sample (0 on the first), as containerd. */
    private static CpuUsage cpu(CpuRate rate, TaskMetrics m, long now) {
        CpuUsage.Builder b = CpuUsage.newBuilder().setTimestamp(now);
        if (m.cpu() != null) {
            long usage = m.cpu().usage().toNanos();
            b.setUsageCoreNanoSeconds(UInt64Value.newBuilder().setValue(usage));
            b.setUsageNanoCores(UInt64Value.newBuilder().setValue(rate.next(now, usage)));
        }
        return b.build();
    }

    /** How often a container's writable layer is measured (a walk of its upper directory), as containerd's syncer. */
    private static final long LAYER_USAGE_TTL_NANOS = 10_000_000_000L;

    /**
     * The container's writable layer: its snapshot's usage, measured at most every 10 s, on the file system
     * that ImageFsInfo reports (Berth's root). Empty when the snapshot cannot be measured (removed meanwhile).
     */
    private Optional<FilesystemUsage> writableLayer(Ctr c, long now) {
        dev.berth.api.snapshot.Usage usage;
        long at;
        boolean measure;
        synchronized (c) {
            // one caller walks the directory, outside the lock; others meanwhile get the last figure
            measure = !c.layerMeasuring && (c.layerUsage == null || now - c.layerUsageAt > LAYER_USAGE_TTL_NANOS);
            c.layerMeasuring |= measure;
            usage = c.layerUsage;
            at = c.layerUsageAt;
        }
        if (measure) {
            try {
                ContainerRecord r = ns.containers().get(c.id).info();
                usage = ns.snapshots(r.snapshotter()).usage(r.snapshotKey());
                at = now;
            } catch (RuntimeException e) {
                LOG.debug("measuring the writable layer of container {}: {}", c.id, e.toString());
                usage = null;
            } finally {
                synchronized (c) {
                    c.layerMeasuring = false;
                    if (usage != null) { // measured just now
                        c.layerUsage = usage;
                        c.layerUsageAt = now;
                    }
                }
            }
        }
        if (usage == null) {
            return Optional.empty();
        }
        return Optional.of(FilesystemUsage.newBuilder().setTimestamp(at)
                .setFsId(FilesystemIdentifier.newBuilder().setMountpoint(berth.root().toString()))
                .setUsedBytes(UInt64Value.newBuilder().setValue(usage.size()))
                .setInodesUsed(UInt64Value.newBuilder().setValue(usage.inodes())).build());
    }

    private static MemoryUsage memory(TaskMetrics m, long now) {
        MemoryUsage.Builder b = MemoryUsage.newBuilder().setTimestamp(now);
        if (m.memory() != null) {
            long usage = m.memory().usage();
            long workingSet = m.memory().workingSet();
            b.setUsageBytes(UInt64Value.newBuilder().setValue(usage))
                    .setWorkingSetBytes(UInt64Value.newBuilder().setValue(workingSet))
                    .setRssBytes(UInt64Value.newBuilder().setValue(m.memory().rss()))
                    .setPageFaults(UInt64Value.newBuilder().setValue(m.memory().pageFaults()))
                    .setMajorPageFaults(UInt64Value.newBuilder().setValue(m.memory().majorPageFaults()));
            // 0 without a limit, as containerd
            long available = m.memory().limit().isPresent() ? Math.max(0, m.memory().limit().getAsLong() - workingSet) : 0;
            b.setAvailableBytes(UInt64Value.newBuilder().setValue(available));
        }
        return b.build();
    }

    public PodSandboxStatsResponse podSandboxStats(PodSandboxStatsRequest request) {
        return PodSandboxStatsResponse.newBuilder().setStats(podStats(requirePod(request.getPodSandboxId()))).build();
    }

    public ListPodSandboxStatsResponse listPodSandboxStats(ListPodSandboxStatsRequest request) {
        ListPodSandboxStatsResponse.Builder out = ListPodSandboxStatsResponse.newBuilder();
        var f = request.getFilter();
        for (Pod pod : pods.values()) {
            if ((!f.getId().isEmpty() && !pod.id.startsWith(f.getId()))
                    || !matches(pod.config.getLabelsMap(), f.getLabelSelectorMap())) {
                continue;
            }
            out.addStats(podStats(pod));
        }
        return out.build();
    }

    /** A pod's usage: the sum of its running containers' and its pause process's. */
    PodSandboxStats podStats(Pod pod) {
        long now = CriRuntime.nanos(Instant.now());
        LinuxPodSandboxStats.Builder linux = LinuxPodSandboxStats.newBuilder();
        long cpu = 0;
        long mem = 0;
        long ws = 0;
        long processes = 0;
        List<TaskMetrics> all = new ArrayList<>();
        all.add(metrics(pod.pause));
        ProcessStart pause = pod.pauseProcess;
        if (pod.netns != null && pod.pause != null && pause != null) { // a pod on the host's network has none
            // read through the pause process's pid, which counts only while it is still that process
            PodNetworkStats.of(pause.pid(), now).filter(n -> ProcessStart.of(pause.pid()).equals(Optional.of(pause)))
                    .ifPresent(linux::setNetwork);
        }
        for (Ctr c : containers.values()) {
            if (c.sandboxId.equals(pod.id) && c.state() == ContainerState.CONTAINER_RUNNING) {
                TaskMetrics m = metrics(c.task); // one shim call serves the container's entry and the pod's sum
                linux.addContainers(stats(c, m));
                all.add(m);
            }
        }
        long rss = 0;
        for (TaskMetrics m : all) {
            if (m == null) {
                continue;
            }
            if (m.cpu() != null) {
                cpu += m.cpu().usage().toNanos();
            }
            if (m.memory() != null) {
                mem += m.memory().usage();
                ws += m.memory().workingSet();
                rss += m.memory().rss();
            }
            if (m.pids() != null) {
                processes += m.pids().current();
            }
        }
        linux.setCpu(CpuUsage.newBuilder().setTimestamp(now)
                        .setUsageCoreNanoSeconds(UInt64Value.newBuilder().setValue(cpu))
                        .setUsageNanoCores(UInt64Value.newBuilder().setValue(pod.cpuRate.next(now, cpu))))
                .setMemory(MemoryUsage.newBuilder().setTimestamp(now).setUsageBytes(UInt64Value.newBuilder().setValue(mem))
                        .setWorkingSetBytes(UInt64Value.newBuilder().setValue(ws))
                        .setRssBytes(UInt64Value.newBuilder().setValue(rss)))
                .setProcess(ProcessUsage.newBuilder().setTimestamp(now).setProcessCount(UInt64Value.newBuilder().setValue(processes)));
        return PodSandboxStats.newBuilder().setAttributes(PodSandboxAttributes.newBuilder().setId(pod.id)
                .setMetadata(pod.config.getMetadata()).putAllLabels(pod.config.getLabelsMap())
                .putAllAnnotations(pod.config.getAnnotationsMap())).setLinux(linux).build();
    }

    // ----- events and recovery -----

    void publish(Ctr c, ContainerEventType type) {
        ContainerEventResponse.Builder e = ContainerEventResponse.newBuilder().setContainerId(c.id)
                .setContainerEventType(type).setCreatedAt(CriRuntime.nanos(Instant.now()));
        Pod pod = pods.get(c.sandboxId);
        if (pod != null) {
            e.setPodSandboxStatus(status(pod)).addAllContainersStatuses(containerStatusesOf(pod.id));
        }
        events.publish(e.build());
    }

    /** Takes over what an earlier server left in the namespace: sandboxes first, then their containers. */
    void recover() {
        List<Container> all = ns.containers().list().stream().filter(c -> c.labels().containsKey(CriState.KIND)).toList();
        for (Container c : all) {
            if ("sandbox".equals(c.labels().get(CriState.KIND))) {
                try {
                    recoverPod(c);
                } catch (RuntimeException e) {
                    LOG.warn("cannot recover sandbox {}", c.id(), e);
                }
            }
        }
        for (Container c : all) {
            if ("container".equals(c.labels().get(CriState.KIND))) {
                try {
                    recoverContainer(c);
                } catch (RuntimeException e) {
                    LOG.warn("cannot recover container {}", c.id(), e);
                }
            }
        }
    }

    private void recoverContainer(Container container) {
        var info = container.info();
        Spec spec = container.spec();
        String encoded = spec.annotations() == null ? null : spec.annotations().get(CriState.CONFIG);
        if (encoded == null) {
            LOG.warn("container {} has no CRI config annotation; left alone", container.id());
            return;
        }
        CreateContainerRequest request;
        try {
            request = CreateContainerRequest.parseFrom(Base64.getDecoder().decode(encoded));
        } catch (IOException | IllegalArgumentException e) {
            LOG.warn("container {} has an unreadable CRI config; left alone: {}", container.id(), e.toString());
            return;
        }
        String imageRef = images.find(info.image()).map(CriImages.Found::id).orElse(info.image());
        var sc = request.getSandboxConfig();
        Path logPath = request.getConfig().getLogPath().isEmpty() || sc.getLogDirectory().isEmpty() ? null
                : Path.of(sc.getLogDirectory()).resolve(request.getConfig().getLogPath());
        int stopSignal = request.getConfig().getStopSignal() == Signal.RUNTIME_DEFAULT ? 15
                : Signals.number(request.getConfig().getStopSignal().name());
        Ctr c = new Ctr(container.id(), request.getPodSandboxId(), request, info.createdAt(), imageRef, info.image(),
                stopSignal, logPath);
        String updated = spec.annotations().get(CriState.RESOURCES);
        if (updated != null) {
            try {
                c.resources = LinuxContainerResources.parseFrom(Base64.getDecoder().decode(updated));
            } catch (IOException | IllegalArgumentException e) {
                LOG.warn("container {}: its last resource update is unreadable; its config's are shown: {}",
                        container.id(), e.toString());
            }
        }
        Map<String, String> labels = info.labels();
        c.startedAt = CriRuntime.instant(labels.get(CriState.STARTED));
        c.finishedAt = CriRuntime.instant(labels.get(CriState.FINISHED));
        if (c.finishedAt != null) {
            c.exitCode = Integer.parseInt(labels.getOrDefault(CriState.EXIT, "255"));
            c.reason = labels.getOrDefault(CriState.REASON, "Error");
            c.message = labels.getOrDefault(CriState.MESSAGE, "");
            c.exited.complete(null);
        }
        names.put(c.reservedName(), c.id);
        containers.put(c.id, c);
        if (c.startedAt != null && c.finishedAt == null) {
            Optional<Task> task = container.task();
            if (task.isEmpty()) {
                // no task, no shim: it ended while no server ran, with nothing left to say how
                recordExitUnknown(c);
                return;
            }
            Task t = task.get();
            if (t.isAlive() && c.logPath != null) {
                c.log = new CriLog(c.logPath, Clock.systemUTC());
                try {
                    t.attach(c.io.tee(c.log.stream("stdout"), false), c.io.tee(c.log.stream("stderr"), true));
                } catch (dev.berth.api.FailedPreconditionException e) {
                    // another process on this root reads its output just now (a `berth` command, say): the
                    // container is still recovered and its exit recorded; only its log stays behind
                    LOG.warn("container {}: its log is not attached again: {}", c.id, e.getMessage());
                }
            }
            c.task = t;
            t.onOom(() -> c.oomSeen.complete(null));
            watch(c, t);
        }
    }

    private void recordExitUnknown(Ctr c) {
        c.exitCode = 255;
        c.finishedAt = Instant.now();
        c.reason = "Error";
        c.exited.complete(null);
        try {
            unsyncedRun(() -> ns.containers().get(c.id).setLabels(Map.of(CriState.FINISHED,
                    String.valueOf(CriRuntime.nanos(c.finishedAt)), CriState.EXIT, "255", CriState.REASON, c.reason)));
        } catch (NotFoundException gone) {
            // removed meanwhile
        }
    }
}
