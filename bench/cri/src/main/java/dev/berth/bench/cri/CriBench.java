package dev.berth.bench.cri;

import dev.berth.cri.internal.proto.ContainerConfig;
import dev.berth.cri.internal.proto.ContainerMetadata;
import dev.berth.cri.internal.proto.ContainerState;
import dev.berth.cri.internal.proto.ContainerStatusRequest;
import dev.berth.cri.internal.proto.CreateContainerRequest;
import dev.berth.cri.internal.proto.ImageSpec;
import dev.berth.cri.internal.proto.LinuxContainerConfig;
import dev.berth.cri.internal.proto.LinuxContainerSecurityContext;
import dev.berth.cri.internal.proto.LinuxPodSandboxConfig;
import dev.berth.cri.internal.proto.LinuxSandboxSecurityContext;
import dev.berth.cri.internal.proto.NamespaceMode;
import dev.berth.cri.internal.proto.NamespaceOption;
import dev.berth.cri.internal.proto.ListPodSandboxRequest;
import dev.berth.cri.internal.proto.PodSandbox;
import dev.berth.cri.internal.proto.PodSandboxConfig;
import dev.berth.cri.internal.proto.PodSandboxMetadata;
import dev.berth.cri.internal.proto.RemoveContainerRequest;
import dev.berth.cri.internal.proto.RemovePodSandboxRequest;
import dev.berth.cri.internal.proto.RunPodSandboxRequest;
import dev.berth.cri.internal.proto.RuntimeServiceGrpc;
import dev.berth.cri.internal.proto.SecurityProfile;
import dev.berth.cri.internal.proto.StartContainerRequest;
import dev.berth.cri.internal.proto.StopPodSandboxRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One CRI client, two endpoints: Berth's {@code berth cri serve} and containerd 1.6's CRI plugin, each a
 * process of its own as a kubelet sees them. Per pair and side, in alternating order: (a) {@code inRow}
 * pods one after the other, each RunPodSandbox, CreateContainer + StartContainer of busybox {@code echo hi},
 * ContainerStatus polled every 10 ms until exited, RemoveContainer, StopPodSandbox, RemovePodSandbox
 * (workload cri-pod, one line per pod); pod and container carry the security context kubelet sends for a plain pod; (b) {@code concurrent} such pods at once (cri-concurrent, wall time).
 * Then per side (c) the memory a running pod costs: {@code memPods} pods with a {@code sleep} container,
 * the PSS (mem-cri-pod) and RSS (mem-cri-pod-rss) of the runtime process's growth (0 if it shrank) plus every shim it
 * started and the shims' children except the sleep processes themselves (pause processes, runc leftovers),
 * divided by the pod count; a first round of {@code memPods} such pods, started and removed unmeasured, warms
 * every side alike ({@code -Dbench.cri.memWarm=false}: no warm round). Before those, the streaming rows of {@link StreamBench} (exec and port-forward);
 * {@code -Dbench.cri.parts=stream} or {@code =pods} runs only one of the two parts.
 *
 * <p>Usage: {@code CriBench <pairs> <inRow> <concurrent> <memPods> <logDir> <side>=<socket>,<pid>,<shimMarker> ...}
 * where shimMarker is a string on the command line of exactly that runtime's shims (its state directory
 * for Berth, its socket for containerd). A side {@code <name>@<variant>} is another server of side
 * {@code name} whose figures are reported as workload {@code <workload>-<variant>}: variants starting with
 * {@code pps} (pods per shim) take part in the memory rows only, the others in the time rows only.
 */
public final class CriBench {
    static final String BUSYBOX = "docker.io/library/busybox:latest";
    private static final AtomicInteger SEQ = new AtomicInteger();

    /*
     * What kubelet (1.35) sends for a pod with no securityContext: pid per container, seccomp Unconfined
     * (no --seccomp-default), no_new_privs false, and its default masked and read-only /proc and /sys paths. Runtimes
     * apply the request's lists as they are, so both sides do the same mounts.
     */
    static final NamespaceOption KUBELET_NAMESPACES = NamespaceOption.newBuilder().setNetwork(NamespaceMode.POD)
            .setPid(NamespaceMode.CONTAINER).setIpc(NamespaceMode.POD).build();
    static final SecurityProfile UNCONFINED = SecurityProfile.newBuilder()
            .setProfileType(SecurityProfile.ProfileType.Unconfined).build();
    static final List<String> KUBELET_MASKED_PATHS = List.of("/proc/asound", "/proc/acpi", "/proc/kcore",
            "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
            "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap");
    static final List<String> KUBELET_READONLY_PATHS = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
            "/proc/sysrq-trigger");

    record Side(String name, String variant, Path socket, long pid, String shimMarker, EventLoopGroup loop,
                ManagedChannel channel) {
        boolean timed() {
            return !variant.startsWith("pps");
        }

        boolean measuresMemory() {
            return variant.isEmpty() || variant.startsWith("pps");
        }

        String workload(String base) {
            return variant.isEmpty() ? base : base + "-" + variant;
        }

        RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
            return RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(3, TimeUnit.MINUTES);
        }
    }

    private CriBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 6) {
            throw new IllegalArgumentException(
                    "usage: CriBench <pairs> <inRow> <concurrent> <memPods> <logDir> <side>=<socket>,<pid>,<shimMarker> ...");
        }
        int pairs = Integer.parseInt(args[0]);
        int inRow = Integer.parseInt(args[1]);
        int concurrent = Integer.parseInt(args[2]);
        int memPods = Integer.parseInt(args[3]);
        Path logDir = Path.of(args[4]);
        List<Side> sides = new ArrayList<>();
        for (int i = 5; i < args.length; i++) {
            sides.add(side(args[i]));
        }
        // bench.cri.parts: pods (the pod rows and memory) and/or stream (exec and port-forward, StreamBench), or
        // peerdiff (the same CRI calls on both sides, answers compared: PeerDiff)
        List<String> parts = List.of(System.getProperty("bench.cri.parts", "pods,stream").split(","));
        try {
            if (parts.contains("stream")) {
                StreamBench.run(sides, logDir, pairs, Integer.getInteger("bench.cri.execs", 20),
                        Integer.getInteger("bench.cri.portForwardMiB", 1024));
            }
            if (parts.contains("peerdiff")) {
                PeerDiff.run(sides, logDir);
            }
            if (!parts.contains("pods")) {
                return;
            }
            for (Side s : sides) { // warm-up: Berth builds its pause image, both load their code paths
                for (int i = 0; i < WARM_PODS; i++) {
                    podCycle(s, logDir, "warmup");
                }
                for (int i = 0; i < WARM_ROUNDS; i++) {
                    runConcurrently(s, logDir, i == 0 ? 2 : concurrent, "warmup");
                }
            }
            List<Side> timed = sides.stream().filter(Side::timed).toList();
            for (int p = 0; p < pairs; p++) {
                for (int k = 0; k < timed.size(); k++) {
                    Side s = timed.get((p + k) % timed.size());
                    for (int i = 0; i < inRow; i++) {
                        report(s.workload("cri-pod"), s, podCycle(s, logDir, "row"));
                    }
                    long[] cpu0 = cpu(s);
                    report(s.workload("cri-concurrent"), s, runConcurrently(s, logDir, concurrent, "conc"));
                    long[] cpu1 = cpu(s);
                    // CPU per pod of the concurrent round: the server process with the children it waited for
                    // (CNI plugins, `shim start`, runc run by it), and the whole machine (all sides, other load)
                    report(s.workload("cpu-cri-server"), s, (cpu1[0] - cpu0[0]) * 1_000_000L / concurrent);
                    System.err.printf("bench: %s: concurrent round: server+waited children %d ms CPU per pod, machine"
                                    + " %d ms CPU per pod (busy %.0f %% of %d cores), this client %d ms per pod%n",
                            s.workload(s.name), (cpu1[0] - cpu0[0]) / concurrent, (cpu1[1] - cpu0[1]) / concurrent,
                            100.0 * (cpu1[1] - cpu0[1]) / Math.max(1, (cpu1[2] - cpu0[2])),
                            Runtime.getRuntime().availableProcessors(), (cpu1[3] - cpu0[3]) / concurrent);
                }
            }
            for (Side s : sides) {
                if (s.measuresMemory()) {
                    memory(s, logDir, memPods);
                }
            }
        } finally {
            SpdyClient.shutdown();
            for (Side s : sides) {
                removeAllPods(s);
                s.channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                s.loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }
        }
    }

    static Side side(String spec) {
        int eq = spec.indexOf('=');
        String[] parts = spec.substring(eq + 1).split(",", 3);
        if (eq < 1 || parts.length != 3) {
            throw new IllegalArgumentException("a side is <name>=<socket>,<pid>,<shimMarker>, not " + spec);
        }
        EventLoopGroup loop = new EpollEventLoopGroup(1);
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(parts[0]))
                .eventLoopGroup(loop).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
        String[] name = spec.substring(0, eq).split("@", 2);
        return new Side(name[0], name.length > 1 ? name[1] : "", Path.of(parts[0]), Long.parseLong(parts[1]), parts[2],
                loop, channel);
    }

    static PodSandboxConfig pod(Side s, Path logDir, String kind) {
        String name = s.name + "-" + kind + "-" + SEQ.incrementAndGet();
        Path dir;
        try {
            dir = Files.createDirectories(logDir.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace("bench")
                        .setUid("uid-" + name).setAttempt(0))
                .setHostname(name).setLogDirectory(dir.toString())
                .setLinux(LinuxPodSandboxConfig.newBuilder().setSecurityContext(LinuxSandboxSecurityContext.newBuilder()
                        .setNamespaceOptions(KUBELET_NAMESPACES).setSeccomp(UNCONFINED))).build();
    }

    static String startContainer(Side s, String podId, PodSandboxConfig pod, String... command) {
        String id = createContainer(s, podId, pod, command);
        s.rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        return id;
    }

    static String createContainer(Side s, String podId, PodSandboxConfig pod, String... command) {
        ContainerConfig config = ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName("c"))
                .setImage(ImageSpec.newBuilder().setImage(BUSYBOX)).addAllCommand(List.of(command))
                .setLogPath("c/0.log")
                .setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(LinuxContainerSecurityContext.newBuilder()
                        .setNamespaceOptions(KUBELET_NAMESPACES).setSeccomp(UNCONFINED)
                        .addAllMaskedPaths(KUBELET_MASKED_PATHS).addAllReadonlyPaths(KUBELET_READONLY_PATHS)))
                .build();
        try {
            Files.createDirectories(Path.of(pod.getLogDirectory(), "c"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return s.rt().createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(podId)
                .setConfig(config).setSandboxConfig(pod).build()).getContainerId();
    }

    /** A pod from RunPodSandbox to RemovePodSandbox around one {@code echo hi}; nanoseconds. */
    static long podCycle(Side s, Path logDir, String kind) {
        return podCycle(s, logDir, kind, new long[STEPS.size()]);
    }

    /** The steps of a pod cycle whose ends {@link #podCycle(Side, Path, String, long[])} marks. */
    static final List<String> STEPS = List.of("run", "create", "start", "exited", "rmc", "stop", "rmp");
    /** -Dbench.cri.trace=true: each concurrent round's pods' step ends (ms from the round's start) on stderr. */
    static final boolean TRACE = Boolean.getBoolean("bench.cri.trace");

    /** Like {@link #podCycle(Side, Path, String)}, with each step's end ({@link System#nanoTime}) in {@code marks}. */
    static long podCycle(Side s, Path logDir, String kind, long[] marks) {
        PodSandboxConfig pod = pod(s, logDir, kind);
        long t0 = System.nanoTime();
        String podId = s.rt().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(pod).build()).getPodSandboxId();
        marks[0] = System.nanoTime();
        String id = createContainer(s, podId, pod, "echo", "hi");
        marks[1] = System.nanoTime();
        s.rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        marks[2] = System.nanoTime();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (s.rt().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id).build())
                .getStatus().getState() != ContainerState.CONTAINER_EXITED) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(s.name + ": container " + id + " did not exit within 2 minutes");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        marks[3] = System.nanoTime();
        s.rt().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(id).build());
        marks[4] = System.nanoTime();
        s.rt().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(podId).build());
        marks[5] = System.nanoTime();
        s.rt().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(podId).build());
        marks[6] = System.nanoTime();
        return marks[6] - t0;
    }

    static long runConcurrently(Side s, Path logDir, int n, String kind) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            long t0 = System.nanoTime();
            List<Future<Long>> work = new ArrayList<>();
            long[][] marks = new long[n][STEPS.size()];
            for (int i = 0; i < n; i++) {
                long[] m = marks[i];
                work.add(pool.submit(() -> podCycle(s, logDir, kind, m)));
            }
            for (Future<Long> f : work) {
                f.get();
            }
            long nanos = System.nanoTime() - t0;
            if (TRACE && kind.equals("conc")) {
                for (long[] m : marks) {
                    StringBuilder line = new StringBuilder("trace: " + s.workload(s.name) + ": t0=" + t0);
                    for (int k = 0; k < m.length; k++) {
                        line.append(' ').append(STEPS.get(k)).append('=').append((m[k] - t0) / 1_000_000);
                    }
                    System.err.println(line);
                }
            }
            return nanos;
        } finally {
            pool.shutdownNow();
        }
    }

    static void memory(Side s, Path logDir, int n) throws InterruptedException {
        if (MEM_WARM) {
            // the same n running pods once, removed again before the measured round: a runtime process's
            // first n-pod round grows its heap and code for that many pods once (a server that ran only the
            // warm-up pods grew ~1 MiB a pod here), which is not what each further running pod costs
            removePods(s, startSleepPods(s, logDir, n, "memwarm"));
        }
        long[] before = usage(s);
        List<String> pods = startSleepPods(s, logDir, n, "mem");
        Thread.sleep(2000); // let the runtime settle (async event handling, log copiers) before measuring
        long[] after = usage(s);
        System.err.printf("bench: %s: %d pods, %d shim(s), runtime PSS %d -> %d KiB, shims+children PSS %d KiB"
                        + " (shims %d KiB, their children %d KiB)%n",
                s.workload(s.name), n, after[2], before[0], after[0], after[1], after[5], after[1] - after[5]);
        // as RunBench: a runtime that shrank while the pods started counts as no growth
        report(s.workload("mem-cri-pod"), s, (Math.max(0, after[0] - before[0]) + after[1] - before[1]) / (double) n);
        report(s.workload("mem-cri-pod-rss"), s, (Math.max(0, after[3] - before[3]) + after[4] - before[4]) / (double) n);
        removePods(s, pods);
    }

    /**
     * Warm-up per side before the timed pairs: bench.cri.warmPods pods in a row (default 1) and
     * bench.cri.warmRounds concurrent rounds (default 1, of 2 pods; later ones of the round's size).
     */
    static final int WARM_PODS = Integer.getInteger("bench.cri.warmPods", 1);
    static final int WARM_ROUNDS = Integer.getInteger("bench.cri.warmRounds", 1);

    /** bench.cri.memWarm=false: the memory rows measure a side's first round of running pods (as before). */
    static final boolean MEM_WARM = Boolean.parseBoolean(System.getProperty("bench.cri.memWarm", "true"));

    static List<String> startSleepPods(Side s, Path logDir, int n, String kind) {
        List<String> pods = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            PodSandboxConfig pod = pod(s, logDir, kind);
            String podId = s.rt().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(pod).build())
                    .getPodSandboxId();
            pods.add(podId);
            startContainer(s, podId, pod, "sleep", "3600");
        }
        return pods;
    }

    static void removePods(Side s, List<String> pods) {
        for (String id : pods) {
            s.rt().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
            s.rt().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        }
    }

    /**
     * {runtime PSS, shims and their non-sleep descendants PSS, shim count, runtime RSS, shims... RSS,
     * shims alone PSS}, KiB.
     */
    static long[] usage(Side s) {
        Map<Long, List<Long>> children = new HashMap<>();
        List<Long> shims = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(ph -> {
            ph.parent().ifPresent(p -> children.computeIfAbsent(p.pid(), k -> new ArrayList<>()).add(ph.pid()));
            String cmd = cmdline(ph.pid());
            if (cmd.contains("containerd-shim") && cmd.contains(s.shimMarker) && !idleSpare(ph.pid())) {
                shims.add(ph.pid());
            }
        });
        long[] out = new long[6];
        long[] runtime = smaps(s.pid);
        out[0] = runtime[0];
        out[3] = runtime[1];
        out[2] = shims.size();
        List<Long> todo = new ArrayList<>(shims);
        while (!todo.isEmpty()) {
            long pid = todo.remove(todo.size() - 1);
            todo.addAll(children.getOrDefault(pid, List.of()));
            if (cmdline(pid).startsWith("sleep")) {
                continue; // the workload itself, the same on both sides
            }
            long[] m = smaps(pid);
            out[1] += m[0];
            out[4] += m[1];
            if (shims.contains(pid)) {
                out[5] += m[0];
            }
        }
        return out;
    }

    /**
     * A Berth server's one idle spare shim (kept for the next pod, not serving any): its working directory is
     * a shim home ({@code <state>/shims/<ns>/<id>}) without the mark a spare handed over to a pod gets. A fixed
     * cost of the node, not of a running pod: left out of the memory rows (it is in neither round's pods).
     */
    static boolean idleSpare(long pid) {
        try {
            Path cwd = Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd"));
            return Files.isDirectory(cwd) && cwd.getParent() != null && cwd.getParent().getParent() != null
                    && cwd.getParent().getParent().getFileName().toString().equals("shims")
                    && !Files.exists(cwd.resolve("berth-group-shim"));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static final long TICK_MS = 10; // USER_HZ 100 on Linux

    /**
     * {CPU ms of the side's server with its waited-for children (utime+stime+cutime+cstime), busy CPU ms of
     * the machine (all cores), elapsed CPU ms of the machine (all cores, busy or idle), CPU ms of this client}.
     */
    static long[] cpu(Side s) {
        long[] out = new long[4];
        try {
            out[0] = processCpu(Long.toString(s.pid));
            out[3] = processCpu("self");
            String[] all = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            long idle = Long.parseLong(all[4]) + Long.parseLong(all[5]);
            for (int i = 1; i < all.length && i <= 8; i++) {
                total += Long.parseLong(all[i]);
            }
            out[1] = (total - idle) * TICK_MS;
            out[2] = total * TICK_MS;
        } catch (IOException | RuntimeException e) {
            // no figures: zeros
        }
        return out;
    }

    /** CPU of a process and the children it waited for, ms. */
    private static long processCpu(String pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", pid, "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ms = 0;
        // fields 14-17 of stat (utime stime cutime cstime) are 11-14 after the state field
        for (int i = 11; i <= 14; i++) {
            ms += Long.parseLong(f[i]) * TICK_MS;
        }
        return ms;
    }

    static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"))).replace('\0', ' ');
        } catch (IOException gone) {
            return "";
        }
    }

    /** {Pss, Rss} of a process in KiB from smaps_rollup; zeros for a process that is gone. */
    static long[] smaps(long pid) {
        long[] out = new long[2];
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
                if (line.startsWith("Pss:")) {
                    out[0] = Long.parseLong(line.replaceAll("\\D", ""));
                } else if (line.startsWith("Rss:")) {
                    out[1] = Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException gone) {
            // exited between listing and reading
        }
        return out;
    }

    static void removeAllPods(Side s) {
        try {
            for (PodSandbox p : s.rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
                s.rt().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(p.getId()).build());
                s.rt().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(p.getId()).build());
            }
        } catch (RuntimeException e) {
            System.err.println("bench: " + s.name + ": removing the pods left failed: " + e);
        }
    }

    static void report(String workload, Side s, long nanos) {
        System.out.printf("BENCH %s %s %.6f%n", workload, s.name, nanos / 1e9);
        System.out.flush();
    }

    static void report(String workload, Side s, double kib) {
        System.out.printf("BENCH %s %s %.0f%n", workload, s.name, kib);
        System.out.flush();
    }
}
