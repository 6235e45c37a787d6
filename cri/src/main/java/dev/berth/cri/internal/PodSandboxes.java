package dev.berth.cri.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.Berth;
import dev.berth.Container;
import dev.berth.ContainerConfig;
import dev.berth.Namespace;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.NotFoundException;
import dev.berth.api.oci.runtime.Spec;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.cri.internal.proto.DNSConfig;
import dev.berth.cri.internal.proto.LinuxPodSandboxStatus;
import dev.berth.cri.internal.proto.LinuxSandboxSecurityContext;
import dev.berth.cri.internal.proto.ListPodSandboxRequest;
import dev.berth.cri.internal.proto.ListPodSandboxResponse;
import dev.berth.cri.internal.proto.NamespaceMode;
import dev.berth.cri.internal.proto.PodSandbox;
import dev.berth.cri.internal.proto.PodSandboxConfig;
import dev.berth.cri.internal.proto.PodSandboxFilter;
import dev.berth.cri.internal.proto.PodSandboxMetadata;
import dev.berth.cri.internal.proto.PodSandboxNetworkStatus;
import dev.berth.cri.internal.proto.PodSandboxState;
import dev.berth.cri.internal.proto.PodSandboxStatus;
import dev.berth.cri.internal.proto.PodSandboxStatusRequest;
import dev.berth.cri.internal.proto.PodSandboxStatusResponse;
import dev.berth.cri.internal.proto.PortMapping;
import dev.berth.cri.internal.proto.Protocol;
import dev.berth.cri.internal.proto.RemovePodSandboxRequest;
import dev.berth.cri.internal.proto.RemovePodSandboxResponse;
import dev.berth.cri.internal.proto.RunPodSandboxRequest;
import dev.berth.cri.internal.proto.RunPodSandboxResponse;
import dev.berth.cri.internal.proto.SecurityProfile;
import dev.berth.cri.internal.proto.StopPodSandboxRequest;
import dev.berth.cri.internal.proto.StopPodSandboxResponse;
import dev.berth.runtime.TaskOptions;
import dev.berth.runtime.spec.SpecOption;
import dev.berth.runtime.spec.SpecOptions;
import dev.berth.sys.ErrnoException;
import dev.berth.sys.ProcessStart;
import dev.berth.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pod sandboxes as containerd's CRI makes them: a pause container (catatonit) holding the pod's network
 * namespace (set up with CNI, or the host's), IPC and UTS namespaces, the pod's hostname and
 * resolv.conf, sysctls and cgroup parent. A sandbox's name is reserved until it is removed.
 */
abstract class PodSandboxes extends CriState {
    private static final Logger LOG = LoggerFactory.getLogger(PodSandboxes.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final Duration PAUSE_STOP = Duration.ofSeconds(10);

    /** One pod sandbox. */
    static final class Pod {
        final String id;
        final PodSandboxConfig config;
        final String runtimeHandler;
        final Instant createdAt;
        final Path netns;
        final String cniResult;
        final String ip;
        final Path dir;
        /** The shim group its tasks run in when pods share shims, else null (the sandbox id groups them). */
        final String shimGroup;
        volatile Task pause;
        /** The pause process as it started, for a signal that cannot reach a later process with its pid. */
        volatile ProcessStart pauseProcess;
        volatile boolean stopped;
        /** The pause task's delete running in the background after a stop (deferred removal), else null. */
        volatile java.util.concurrent.CompletableFuture<Void> pauseDeleted;
        /** For the pod's CPU rate in PodSandboxStats. */
        final CpuRate cpuRate = new CpuRate();

        Pod(String id, PodSandboxConfig config, String runtimeHandler, Instant createdAt, Path netns,
            String cniResult, Path dir, String shimGroup) {
            this.id = id;
            this.shimGroup = shimGroup;
            this.config = config;
            this.runtimeHandler = runtimeHandler;
            this.createdAt = createdAt;
            this.netns = netns;
            this.cniResult = cniResult;
            this.ip = cniResult == null || cniResult.isEmpty() ? "" : CniNetwork.ip(cniResult);
            this.dir = dir;
        }

        boolean ready() {
            Task t = pause;
            return !stopped && t != null && t.isAlive();
        }

        NamespaceMode mode(String which) {
            var o = config.getLinux().getSecurityContext().getNamespaceOptions();
            return switch (which) {
                case "network" -> o.getNetwork();
                case "pid" -> o.getPid();
                default -> o.getIpc();
            };
        }

        String reservedName() {
            return sandboxName(config.getMetadata());
        }
    }

    PodSandboxes(Berth berth, CriRuntime.Settings settings, Namespace ns, ExecutorService exits) {
        super(berth, settings, ns, exits);
    }

    static String sandboxName(PodSandboxMetadata m) {
        return m.getName() + "_" + m.getNamespace() + "_" + m.getUid() + "_" + m.getAttempt();
    }

    public RunPodSandboxResponse runPodSandbox(RunPodSandboxRequest request) {
        CriRuntime.checkOpen(closed);
        PodSandboxConfig config = request.getConfig();
        PodSandboxMetadata md = config.getMetadata();
        if (!config.hasMetadata() || md.getName().isEmpty() || md.getNamespace().isEmpty() || md.getUid().isEmpty()) {
            throw new InvalidArgumentException("sandbox config needs metadata with name, namespace and uid");
        }
        if (!request.getRuntimeHandler().isEmpty() && !request.getRuntimeHandler().equals("runc")) {
            throw new InvalidArgumentException("unknown runtime handler \"" + request.getRuntimeHandler()
                    + "\" (this runtime has \"\" and \"runc\")");
        }
        String id = CriRuntime.newId();
        String name = sandboxName(md);
        reserve(name, id, "sandbox");
        String group = null;
        boolean hostNetwork = config.getLinux().getSecurityContext().getNamespaceOptions().getNetwork()
                == NamespaceMode.NODE;
        Path dir = settings.stateDir().resolve("sandboxes").resolve(id);
        Path netns = null;
        PodNetwork network = null;
        String conflist = null;
        Container container = null;
        Steps steps = new Steps("RunPodSandbox", id);
        boolean createCounted = true;
        try {
            String image = PauseImage.ensure(ns);
            group = shims.assign(id, this::shimLost).orElse(null);
            writePodFiles(dir, config, hostNetwork);
            Path shm = PodShm.create(dir, config.getLinux().getSecurityContext().getNamespaceOptions().getIpc()
                    == NamespaceMode.NODE);
            steps.mark("image+files");
            if (!hostNetwork) {
                conflist = cni.conflist().orElseThrow(() -> new FailedPreconditionException(
                        "network is not ready: no CNI network configuration in " + cni.confDir()));
                netns = cni.newNamespaceFile();
                // The namespace is made, and CNI ADD (the longest step) run, while the pause container is
                // created and started: its task only needs the namespace to exist, not its interfaces
                network = new PodNetwork(id, conflist, netns, cniArgs(md, id), portMappings(config));
                if (SERIAL_NETWORK) {
                    network.awaitResult();
                    steps.mark("network");
                }
            }
            List<SpecOption> spec = sandboxSpec(id, config, netns, dir, shm, group, request);
            ContainerConfig pauseConfig = ContainerConfig.builder(id).image(image)
                    .label(CriState.KIND, "sandbox").label(CriState.NAME, name)
                    .spec(spec).build();
            container = unsynced(() -> ns.containers().create(pauseConfig));
            steps.mark("create");
            if (network != null) {
                network.awaitNamespace();
                steps.mark("netns wait");
            }
            Task task;
            try {
                task = container.newTask(TaskOptions.stdio(Stdio.nullIO()));
            } finally {
                shims.created(group);
                createCounted = false;
            }
            steps.mark("task");
            task.start();
            steps.mark("start");
            if (group != null) {
                // the next pod's warm shim, launched now rather than beside this sandbox's create and CNI ADD
                shims.prepareNext();
            }
            String cniResult = "";
            if (network != null) {
                cniResult = network.awaitResult();
                steps.mark("network wait");
                steps.add("network ran", network.nanos);
                writeCniResult(dir, cniResult);
            }
            Pod pod = new Pod(id, config, request.getRuntimeHandler(), Instant.now(), netns, cniResult, dir, group);
            pod.pause = task;
            pod.pauseProcess = ProcessStart.of(task.pid()).orElse(null);
            pods.put(id, pod);
            return RunPodSandboxResponse.newBuilder().setPodSandboxId(id).build();
        } catch (RuntimeException e) {
            String cniResult = network == null ? "" : network.resultAfterAll(e);
            if (createCounted) {
                shims.created(group);
            }
            undoRun(id, container, conflist, netns, cniResult, md, dir, e);
            shims.leave(group, id);
            if (group != null) {
                shims.prepareNext(); // this pod may have taken the warm shim
            }
            release(name, id);
            throw e;
        } finally {
            steps.log();
        }
    }

    /** Off: CNI ADD runs before the pause container is created (the A/B switch of the overlap). */
    static final boolean SERIAL_NETWORK = Boolean.getBoolean("berth.cri.serialNetwork");
    /** Where a sandbox's CNI result is kept for a later server (beside its resolv.conf). */
    static final String CNI_RESULT_FILE = "cni-result.json";

    /**
     * A pod's network namespace and CNI ADD, made on the exits executor: the namespace (with {@code lo} up
     * when iproute2 is there), then the {@code loopback} plugin if it is not, beside the conflist's ADD.
     */
    private final class PodNetwork {
        private final java.util.concurrent.CompletableFuture<Boolean> namespace;
        private final java.util.concurrent.CompletableFuture<String> result;
        volatile long nanos;

        PodNetwork(String id, String conflist, Path netns, Map<String, String> args, String runtimeConfig) {
            long t0 = System.nanoTime();
            namespace = java.util.concurrent.CompletableFuture.supplyAsync(() -> cni.createNamespace(netns), exits);
            var lo = namespace.thenAcceptAsync(up -> {
                if (!up) {
                    cni.loopback(id, netns);
                }
            }, exits);
            var eth0 = namespace.thenApplyAsync(up -> cni.add(conflist, id, netns, args, runtimeConfig), exits);
            result = lo.thenCombine(eth0, (v, r) -> r).whenComplete((r, e) -> nanos = System.nanoTime() - t0);
        }

        /** Returns once the namespace exists; its creation's failure as it was thrown. */
        void awaitNamespace() {
            join(namespace);
        }

        /** The ADD's result; its failure as it was thrown. */
        String awaitResult() {
            return join(result);
        }

        private static <T> T join(java.util.concurrent.CompletableFuture<T> f) {
            try {
                return f.join();
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw e;
            }
        }

        /** After {@code cause}: waits for the ADD to end (so DEL comes after it), its result or "" if it failed. */
        String resultAfterAll(RuntimeException cause) {
            try {
                return awaitResult();
            } catch (RuntimeException failed) {
                if (failed != cause) {
                    cause.addSuppressed(failed);
                }
                return "";
            }
        }
    }

    private static void writeCniResult(Path dir, String result) {
        try {
            Files.writeString(dir.resolve(CNI_RESULT_FILE), result);
        } catch (IOException e) {
            throw IoFailureException.of("cannot write the CNI result in " + dir, e);
        }
    }

    private void undoRun(String id, Container container, String conflist, Path netns, String cniResult,
                         PodSandboxMetadata md, Path dir, RuntimeException cause) {
        try {
            if (container != null) {
                container.task().ifPresent(t -> t.delete(true));
                unsyncedRun(container::delete);
            }
            if (netns != null) {
                if (conflist != null && cni.namespaceExists(netns)) {
                    cni.del(conflist, id, netns, cniArgs(md, id), "{}", cniResult.isEmpty() ? null : cniResult);
                }
                cni.removeNamespace(netns);
            }
            PodShm.release(dir);
            deleteTree(dir);
        } catch (RuntimeException suppressed) {
            cause.addSuppressed(suppressed);
        }
    }

    private List<SpecOption> sandboxSpec(String id, PodSandboxConfig config, Path netns, Path dir, Path shm,
                                         String shimGroup, RunPodSandboxRequest request) {
        LinuxSandboxSecurityContext sc = config.getLinux().getSecurityContext();
        List<SpecOption> spec = new ArrayList<>();
        spec.add(SpecOptions.annotation(CriState.CONFIG, Base64.getEncoder().encodeToString(request.toByteArray())));
        spec.add(SpecOptions.annotation(CriState.CONTAINER_TYPE, "sandbox"));
        spec.add(SpecOptions.annotation(CriState.SANDBOX_ID, id));
        if (shimGroup != null) {
            spec.add(SpecOptions.shimGroup(shimGroup));
        }
        if (netns != null) {
            spec.add(SpecOptions.annotation(CriState.NETNS, netns.toString()));
            spec.add(SpecOptions.customize(CriRuntime.withNamespaceAt("network", netns.toString())));
            if (!config.getHostname().isEmpty()) {
                spec.add(SpecOptions.hostname(config.getHostname()));
            }
        } else {
            spec.add(SpecOptions.hostNetwork(true));
            spec.add(SpecOptions.customize(CriRuntime.withoutNamespace("uts")));
        }
        if (sc.getNamespaceOptions().getPid() == NamespaceMode.NODE) {
            spec.add(SpecOptions.customize(CriRuntime.withoutNamespace("pid")));
        }
        if (sc.getNamespaceOptions().getIpc() == NamespaceMode.NODE) {
            spec.add(SpecOptions.customize(CriRuntime.withoutNamespace("ipc")));
        }
        config.getLinux().getSysctlsMap().forEach((k, v) -> spec.add(SpecOptions.sysctl(k, v)));
        if (!config.getLinux().getCgroupParent().isEmpty()) {
            spec.add(SpecOptions.cgroupsPath(cgroupPath(config.getLinux().getCgroupParent(), id)));
        }
        spec.add(SpecOptions.oomScoreAdj(CriRuntime.oomScoreAdj(-998)));
        // as containerd's CRI: the pause process's root is read-only, it has no /run tmpfs nor cgroup mount (a
        // hybrid-cgroup host's is a tmpfs and a bind per hierarchy for runc to make), and the pod's /dev/shm
        spec.add(SpecOptions.readOnlyRootfs(true));
        spec.add(SpecOptions.customize(CriRuntime.withoutDefaultMounts("/run", "/sys/fs/cgroup")));
        spec.add(SpecOptions.customize(CriRuntime.INHERITED_RLIMITS));
        spec.add(SpecOptions.mount(PodShm.mount(shm, true)));
        if (sc.hasRunAsUser()) {
            spec.add(SpecOptions.user(sc.getRunAsUser().getValue(), sc.hasRunAsGroup() ? sc.getRunAsGroup().getValue() : 0));
        }
        spec.add(SpecOptions.bindMount(dir.resolve("resolv.conf"), "/etc/resolv.conf", true));
        if (sc.getPrivileged()) {
            spec.add(SpecOptions.seccompUnconfined());
        } else {
            seccomp(spec, sc.hasSeccomp() ? sc.getSeccomp() : null, sc.getSeccompProfilePath());
        }
        return spec;
    }

    /**
     * Seccomp as containerd's CRI reads it, for a container and for a pod's sandbox alike: the profile message
     * ({@code profile}, null when unset), else the old path string; unset = unconfined. Kubelet sends
     * {@code RuntimeDefault} wherever it wants Berth's default profile (a pod's seccompProfile, or its
     * {@code --seccomp-default}).
     */
    static void seccomp(List<SpecOption> spec, SecurityProfile profile, String path) {
        String name;
        if (profile != null) {
            name = switch (profile.getProfileType()) {
                case RuntimeDefault -> "runtime/default";
                case Unconfined -> "unconfined";
                case Localhost -> "localhost/" + profile.getLocalhostRef();
                default -> throw new InvalidArgumentException("unknown seccomp profile type " + profile.getProfileTypeValue());
            };
        } else {
            name = path;
        }
        if (name.isEmpty() || name.equals("unconfined")) {
            spec.add(SpecOptions.seccompUnconfined());
        } else if (name.equals("runtime/default") || name.equals("docker/default")) {
            return; // Berth's default profile for the container's capabilities
        } else if (name.startsWith("localhost/")) {
            Path file = Path.of(name.substring("localhost/".length()));
            if (!file.isAbsolute() || !Files.isRegularFile(file)) {
                throw new InvalidArgumentException("seccomp profile " + file + " is not an absolute path to a file");
            }
            spec.add(SpecOptions.seccompProfile(file));
        } else {
            throw new InvalidArgumentException("unknown seccomp profile \"" + name + "\"");
        }
    }

    /** Whether pod {@code podId}'s shim is known to be gone: its pause process ended while it was not stopped. */
    private boolean shimLost(String podId) {
        Pod p = pods.get(podId);
        Task t = p == null ? null : p.pause;
        return t != null && !p.stopped && !t.isAlive();
    }

    static String cgroupPath(String parent, String id) {
        return (parent.endsWith("/") ? parent : parent + "/") + id;
    }

    private static Map<String, String> cniArgs(PodSandboxMetadata md, String id) {
        Map<String, String> args = new LinkedHashMap<>();
        args.put("IgnoreUnknown", "1");
        args.put("K8S_POD_NAMESPACE", md.getNamespace());
        args.put("K8S_POD_NAME", md.getName());
        args.put("K8S_POD_INFRA_CONTAINER_ID", id);
        args.put("K8S_POD_UID", md.getUid());
        return args;
    }

    private static String portMappings(PodSandboxConfig config) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (PortMapping p : config.getPortMappingsList()) {
            if (p.getHostPort() <= 0) {
                continue;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("hostPort", p.getHostPort());
            m.put("containerPort", p.getContainerPort());
            m.put("protocol", p.getProtocol() == Protocol.UDP ? "udp" : p.getProtocol() == Protocol.SCTP ? "sctp" : "tcp");
            if (!p.getHostIp().isEmpty()) {
                m.put("hostIP", p.getHostIp());
            }
            out.add(m);
        }
        return CniNetwork.portMappings(out);
    }

    /** The pod's hostname: its config's, else the host's (as containerd's CRI, from the kernel). */
    static String podHostname(PodSandboxConfig config) {
        if (!config.getHostname().isEmpty()) {
            return config.getHostname();
        }
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException e) {
            throw IoFailureException.of("reading the host's name", e);
        }
    }

    private static void writePodFiles(Path dir, PodSandboxConfig config, boolean hostNetwork) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("hostname"), podHostname(config) + "\n");
            if (hostNetwork) {
                Files.copy(Path.of("/etc/hosts"), dir.resolve("hosts"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.writeString(dir.resolve("hosts"), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
            }
            Files.writeString(dir.resolve("resolv.conf"), resolvConf(config));
        } catch (IOException e) {
            throw IoFailureException.of("cannot write the pod files in " + dir, e);
        }
    }

    /** {@code resolv.conf} from the DNS config, else the host's. */
    static String resolvConf(PodSandboxConfig config) throws IOException {
        if (!config.hasDnsConfig()) {
            Path host = Path.of("/etc/resolv.conf");
            return Files.exists(host) ? Files.readString(host) : "";
        }
        DNSConfig dns = config.getDnsConfig();
        StringBuilder s = new StringBuilder();
        if (dns.getSearchesCount() > 0) {
            s.append("search ").append(String.join(" ", dns.getSearchesList())).append('\n');
        }
        for (String server : dns.getServersList()) {
            s.append("nameserver ").append(server).append('\n');
        }
        if (dns.getOptionsCount() > 0) {
            s.append("options ").append(String.join(" ", dns.getOptionsList())).append('\n');
        }
        return s.toString();
    }

    public StopPodSandboxResponse stopPodSandbox(StopPodSandboxRequest request) {
        CriRuntime.checkOpen(closed);
        Optional<Pod> found = findPod(request.getPodSandboxId());
        if (found.isEmpty()) {
            return StopPodSandboxResponse.getDefaultInstance(); // gone already: stopping again succeeds
        }
        stopPod(found.get());
        return StopPodSandboxResponse.getDefaultInstance();
    }

    void stopPod(Pod pod) {
        shims.leave(pod.shimGroup, pod.id); // no new pod joins a shim whose pods are all stopping
        synchronized (pod) {
            Steps steps = new Steps("StopPodSandbox", pod.id);
            try {
                stopPod(pod, steps);
            } finally {
                steps.log();
            }
        }
    }

    private void stopPod(Pod pod, Steps steps) {
        stopContainersOf(pod.id);
        steps.mark("containers");
        // CNI DEL runs while the pause process is stopped and deleted: both only need the namespace
        java.util.concurrent.CompletableFuture<Void> networkDown = null;
        boolean withNetwork = pod.netns != null && cni.namespaceExists(pod.netns);
        String conflist = withNetwork ? cni.conflist().orElse(null) : null;
        if (conflist != null) {
            Runnable del = () -> cni.del(conflist, pod.id, pod.netns, cniArgs(pod.config.getMetadata(), pod.id),
                    portMappings(pod.config), pod.cniResult.isEmpty() ? null : pod.cniResult);
            if (SERIAL_NETWORK) {
                del.run();
                steps.mark("network");
            } else {
                long t0 = System.nanoTime();
                networkDown = java.util.concurrent.CompletableFuture.runAsync(del, exits)
                        .whenComplete((v, e) -> steps.add("network ran", System.nanoTime() - t0));
            }
        }
        Task pause = pod.pause;
        if (pause != null) {
            try {
                if (pause.isAlive()) {
                    if (!killPauseDirectly(pod)) {
                        pause.kill(9);
                    }
                    if (pause.waitFor(PAUSE_STOP).isEmpty()) {
                        pause.kill(9);
                    }
                }
                steps.mark("pause stop");
                if (DEFER_REMOVAL) {
                    // the pod is NOTREADY and its processes are gone: `runc delete` and the shim's exit need
                    // not hold the call; RemovePodSandbox waits for them in the background too
                    pod.pauseDeleted = inBackground("deleting the pause task of pod " + pod.id,
                            () -> deleteTask(pause));
                } else {
                    pause.delete(true);
                }
            } catch (NotFoundException alreadyGone) {
                // deleted before
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new dev.berth.api.CanceledException("interrupted while stopping sandbox " + pod.id);
            }
            pod.pause = null;
        }
        steps.mark("pause delete");
        PodShm.release(pod.dir); // its processes are gone
        if (networkDown != null) {
            awaitNetworkDown(networkDown, pod.id);
            steps.mark("network wait");
        }
        if (withNetwork) {
            cni.removeNamespace(pod.netns);
            steps.mark("netns");
        }
        if (!pod.stopped) {
            pod.stopped = true;
            try {
                unsyncedRun(() -> ns.containers().get(pod.id).setLabels(Map.of(CriState.STOPPED, "true")));
            } catch (NotFoundException gone) {
                // removed meanwhile
            }
            steps.mark("record");
        }
    }

    /** Off: the pause process is killed through its shim (`runc kill`), the A/B switch of the direct kill. */
    static final boolean PAUSE_KILL_THROUGH_SHIM = Boolean.getBoolean("berth.cri.pauseKillThroughShim");

    /**
     * SIGKILL to the pause process, as containerd's CRI stops a sandbox (it holds namespaces, nothing to
     * shut down), sent here rather than through the shim: that would run `runc kill`, a process of its own,
     * for one signal. The pidfd behind {@link Syscalls#signal} makes sure the pid is still the pause
     * process's. False when it cannot be sent that way (unknown start, gone, a reused pid): the shim then
     * signals, and reports what happened.
     */
    private static boolean killPauseDirectly(Pod pod) {
        ProcessStart p = pod.pauseProcess;
        if (PAUSE_KILL_THROUGH_SHIM || p == null) {
            return false;
        }
        try {
            return Syscalls.get().signal(p, 9);
        } catch (ErrnoException e) {
            LOG.debug("pod {}: killing its pause process {} directly: {}", pod.id, p.pid(), e.toString());
            return false;
        }
    }

    private static void deleteTask(Task task) {
        try {
            task.delete(true);
        } catch (NotFoundException alreadyGone) {
            // deleted before
        }
    }

    private static void awaitNetworkDown(java.util.concurrent.CompletableFuture<Void> del, String podId) {
        try {
            del.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("CNI DEL of pod " + podId + " failed", e.getCause());
        }
    }

    abstract void stopContainersOf(String sandboxId);

    abstract void removeContainersOf(String sandboxId);

    abstract List<dev.berth.cri.internal.proto.ContainerStatus> containerStatusesOf(String sandboxId);

    public RemovePodSandboxResponse removePodSandbox(RemovePodSandboxRequest request) {
        CriRuntime.checkOpen(closed);
        Optional<Pod> found = findPod(request.getPodSandboxId());
        if (found.isEmpty()) {
            return RemovePodSandboxResponse.getDefaultInstance(); // removed already
        }
        Pod pod = found.get();
        Steps steps = new Steps("RemovePodSandbox", pod.id);
        try {
            stopPod(pod);
            steps.mark("stop");
            removeContainersOf(pod.id);
            steps.mark("containers");
            synchronized (pod) {
                if (DEFER_REMOVAL) {
                    // gone for the kubelet now (not listed, its name free); the record, snapshot and files
                    // follow once the pause task's delete has ended
                    pods.remove(pod.id);
                    release(pod.reservedName(), pod.id);
                    java.util.concurrent.CompletableFuture<Void> pauseDeleted = pod.pauseDeleted;
                    inBackground("removing pod " + pod.id, () -> {
                        if (pauseDeleted != null) {
                            pauseDeleted.join();
                        }
                        removeRecordAndFiles(pod);
                    });
                    steps.mark("hidden");
                } else {
                    removeRecordAndFiles(pod);
                    steps.mark("record+snapshot+files");
                    pods.remove(pod.id);
                    release(pod.reservedName(), pod.id);
                }
            }
        } finally {
            steps.log();
        }
        return RemovePodSandboxResponse.getDefaultInstance();
    }

    /** The sandbox's record and snapshot (a pause task still there is deleted first) and its files. */
    private void removeRecordAndFiles(Pod pod) {
        try {
            Container c = ns.containers().get(pod.id);
            c.task().ifPresent(PodSandboxes::deleteTask);
            unsyncedRun(c::delete);
        } catch (NotFoundException alreadyGone) {
            // removed before
        }
        deleteTree(pod.dir);
    }

    public PodSandboxStatusResponse podSandboxStatus(PodSandboxStatusRequest request) {
        Pod pod = requirePod(request.getPodSandboxId());
        PodSandboxStatusResponse.Builder out = PodSandboxStatusResponse.newBuilder().setStatus(status(pod))
                .setTimestamp(CriRuntime.nanos(Instant.now()));
        out.addAllContainersStatuses(containerStatusesOf(pod.id));
        if (request.getVerbose()) {
            Map<String, Object> info = new LinkedHashMap<>();
            Task t = pod.pause;
            info.put("pid", t == null ? 0 : t.pid());
            info.put("netns", pod.netns == null ? "" : pod.netns.toString());
            info.put("image", PauseImage.NAME);
            info.put("runtimeHandler", pod.runtimeHandler);
            info.put("cniResult", pod.cniResult);
            try {
                out.putInfo("info", JSON.writeValueAsString(info));
            } catch (IOException e) {
                out.putInfo("info", "{}");
            }
        }
        return out.build();
    }

    PodSandboxStatus status(Pod pod) {
        PodSandboxStatus.Builder s = PodSandboxStatus.newBuilder().setId(pod.id).setMetadata(pod.config.getMetadata())
                .setState(pod.ready() ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY)
                .setCreatedAt(CriRuntime.nanos(pod.createdAt))
                .putAllLabels(pod.config.getLabelsMap()).putAllAnnotations(pod.config.getAnnotationsMap())
                .setRuntimeHandler(pod.runtimeHandler)
                .setLinux(LinuxPodSandboxStatus.newBuilder().setNamespaces(
                        dev.berth.cri.internal.proto.Namespace.newBuilder().setOptions(
                                pod.config.getLinux().getSecurityContext().getNamespaceOptions())));
        if (!pod.ip.isEmpty() && !pod.stopped) {
            s.setNetwork(PodSandboxNetworkStatus.newBuilder().setIp(pod.ip));
        }
        return s.build();
    }

    public ListPodSandboxResponse listPodSandbox(ListPodSandboxRequest request) {
        PodSandboxFilter f = request.getFilter();
        ListPodSandboxResponse.Builder out = ListPodSandboxResponse.newBuilder();
        pods.values().stream().sorted(Comparator.comparing(p -> p.createdAt)).forEach(pod -> {
            if (!f.getId().isEmpty() && !pod.id.startsWith(f.getId())) {
                return;
            }
            PodSandboxState state = pod.ready() ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY;
            if (f.hasState() && f.getState().getState() != state) {
                return;
            }
            if (!matches(pod.config.getLabelsMap(), f.getLabelSelectorMap())) {
                return;
            }
            out.addItems(PodSandbox.newBuilder().setId(pod.id).setMetadata(pod.config.getMetadata()).setState(state)
                    .setCreatedAt(CriRuntime.nanos(pod.createdAt)).putAllLabels(pod.config.getLabelsMap())
                    .putAllAnnotations(pod.config.getAnnotationsMap()).setRuntimeHandler(pod.runtimeHandler));
        });
        return out.build();
    }

    static boolean matches(Map<String, String> labels, Map<String, String> selector) {
        for (Map.Entry<String, String> e : selector.entrySet()) {
            if (!e.getValue().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** The pod with {@code id} or a unique prefix of it. */
    Optional<Pod> findPod(String id) {
        if (id.isEmpty()) {
            throw new InvalidArgumentException("a pod sandbox id is needed");
        }
        Pod exact = pods.get(id);
        if (exact != null) {
            return Optional.of(exact);
        }
        List<Pod> byPrefix = pods.values().stream().filter(p -> p.id.startsWith(id)).toList();
        if (byPrefix.size() > 1) {
            throw new InvalidArgumentException("pod sandbox id prefix \"" + id + "\" is ambiguous");
        }
        return byPrefix.stream().findFirst();
    }

    Pod requirePod(String id) {
        return findPod(id).orElseThrow(() -> new NotFoundException("pod sandbox \"" + id + "\" not found"));
    }

    /** Takes over a sandbox an earlier server made: its pause task if it is still there. */
    void recoverPod(Container c) {
        Spec spec = c.spec();
        Map<String, String> ann = spec.annotations() == null ? Map.of() : spec.annotations();
        String encoded = ann.get(CriState.CONFIG);
        if (encoded == null) {
            LOG.warn("sandbox {} has no CRI config annotation; left alone", c.id());
            return;
        }
        RunPodSandboxRequest request;
        try {
            request = RunPodSandboxRequest.parseFrom(Base64.getDecoder().decode(encoded));
        } catch (IOException | IllegalArgumentException e) {
            LOG.warn("sandbox {} has an unreadable CRI config; left alone: {}", c.id(), e.toString());
            return;
        }
        var info = c.info();
        String netns = ann.get(CriState.NETNS);
        Path dir = settings.stateDir().resolve("sandboxes").resolve(c.id());
        Pod pod = new Pod(c.id(), request.getConfig(), request.getRuntimeHandler(), info.createdAt(),
                netns == null ? null : Path.of(netns), recoveredCniResult(ann, dir), dir, ann.get(PodShims.GROUP));
        pod.stopped = "true".equals(info.labels().get(CriState.STOPPED));
        if (pod.shimGroup != null && !pod.stopped) {
            shims.recovered(pod.shimGroup, pod.id);
        }
        Optional<Task> task = c.task();
        if (task.isPresent() && task.get().isAlive()) {
            pod.pause = task.get();
            pod.pauseProcess = ProcessStart.of(task.get().pid()).orElse(null);
        } else if (task.isPresent()) {
            pod.pause = task.get(); // exited while no server ran: NOTREADY, deleted by StopPodSandbox
        }
        names.put(pod.reservedName(), pod.id);
        pods.put(pod.id, pod);
    }

    /** The CNI result kept in the pod's dir (an earlier server kept it in a spec annotation). */
    private static String recoveredCniResult(Map<String, String> annotations, Path dir) {
        String kept = annotations.get(CriState.CNI_RESULT);
        if (kept != null) {
            return kept;
        }
        try {
            return Files.readString(dir.resolve(CNI_RESULT_FILE));
        } catch (IOException e) {
            return ""; // host network, or the state dir went (a reboot: the network namespace went too)
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw IoFailureException.of("cannot remove " + dir, e);
        }
    }
}
