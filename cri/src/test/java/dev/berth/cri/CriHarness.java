package dev.berth.cri;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.Berth;
import dev.berth.GcPolicy;
import dev.berth.cri.internal.proto.ContainerConfig;
import dev.berth.cri.internal.proto.ContainerMetadata;
import dev.berth.cri.internal.proto.ContainerState;
import dev.berth.cri.internal.proto.ContainerStatus;
import dev.berth.cri.internal.proto.ContainerStatusRequest;
import dev.berth.cri.internal.proto.CreateContainerRequest;
import dev.berth.cri.internal.proto.ImageServiceGrpc;
import dev.berth.cri.internal.proto.ImageSpec;
import dev.berth.cri.internal.proto.LinuxPodSandboxConfig;
import dev.berth.cri.internal.proto.ListPodSandboxRequest;
import dev.berth.cri.internal.proto.PodSandbox;
import dev.berth.cri.internal.proto.PodSandboxConfig;
import dev.berth.cri.internal.proto.PodSandboxMetadata;
import dev.berth.cri.internal.proto.RemovePodSandboxRequest;
import dev.berth.cri.internal.proto.RunPodSandboxRequest;
import dev.berth.cri.internal.proto.RuntimeServiceGrpc;
import dev.berth.cri.internal.proto.StartContainerRequest;
import dev.berth.cri.internal.proto.StopPodSandboxRequest;
import dev.berth.testing.Busybox;
import dev.berth.testing.OciLayout;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;

/**
 * A Berth root, a CNI configuration of its own (a bridge with a unique name on its own 10.77.x.0/24
 * subnet) and a CRI server on a unique socket, with a gRPC client; busybox imported into k8s.io.
 */
final class CriHarness implements AutoCloseable {
    static final String BUSYBOX = "docker.io/library/busybox:latest";
    /** Short enough for a test to see a streaming URL expire, long enough for a loaded machine to use one. */
    static final Duration STREAM_TOKEN_TTL = Duration.ofSeconds(10);

    final Path root;
    final Path state;
    final Path confDir;
    final Path logDir;
    final String bridge;
    final String network;
    final int subnet;
    Berth berth;
    CriServer server;
    private EventLoopGroup clientLoop;
    private ManagedChannel channel;
    RuntimeServiceGrpc.RuntimeServiceBlockingStub rt;
    ImageServiceGrpc.ImageServiceBlockingStub img;

    final Duration streamIdleTimeout;
    final int podsPerShim;

    CriHarness() throws IOException {
        this(CriServer.DEFAULT_STREAM_IDLE_TIMEOUT);
    }

    CriHarness(Duration streamIdleTimeout) throws IOException {
        this(streamIdleTimeout, 1);
    }

    /** A server whose shims serve up to {@code podsPerShim} pods each; 0: the server's default. */
    CriHarness(int podsPerShim) throws IOException {
        this(CriServer.DEFAULT_STREAM_IDLE_TIMEOUT, podsPerShim);
    }

    CriHarness(Duration streamIdleTimeout, int podsPerShim) throws IOException {
        this.streamIdleTimeout = streamIdleTimeout;
        this.podsPerShim = podsPerShim;
        root = Files.createTempDirectory("berth-cri-root-");
        // short: sockets live here (108-byte limit)
        state = Files.createTempDirectory(Path.of("/tmp"), "bcri-");
        confDir = Files.createTempDirectory("berth-cri-cni-");
        logDir = Files.createTempDirectory("berth-cri-logs-");
        String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
        bridge = "bcri" + suffix;
        network = "berth-cri-" + suffix;
        subnet = ThreadLocalRandom.current().nextInt(1, 250);
        Files.writeString(confDir.resolve("10-pods.conflist"), """
                {"cniVersion": "1.0.0", "name": "%s", "plugins": [
                  {"type": "bridge", "bridge": "%s", "isGateway": true, "ipMasq": true, "hairpinMode": true,
                   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.77.%d.0/24"}]],
                            "routes": [{"dst": "0.0.0.0/0"}]}},
                  {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}
                ]}
                """.formatted(network, bridge, subnet));
        open();
        Path archive = Files.createTempFile("berth-cri-busybox-", ".tar");
        try {
            OciLayout.builder().image(BUSYBOX, Busybox.image()).writeTar(archive);
            berth.namespace(CriServer.NAMESPACE).importImage(archive);
        } finally {
            Files.deleteIfExists(archive);
        }
    }

    /** Opens the Berth root and a server on it (again after {@link #closeServer()}). */
    void open() {
        berth = Berth.builder().root(root).stateDir(state).gcPolicy(GcPolicy.manual()).build();
        CriServer.Builder builder = CriServer.builder(berth).socket(state.resolve("cri.sock")).cniConfDir(confDir)
                .stateDir(state.resolve("cri")).streamTokenTtl(STREAM_TOKEN_TTL)
                .streamIdleTimeout(streamIdleTimeout);
        server = (podsPerShim > 0 ? builder.podsPerShim(podsPerShim) : builder).build();
        clientLoop = new EpollEventLoopGroup(1);
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(server.socket().toString()))
                .eventLoopGroup(clientLoop).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
        rt = RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.MINUTES);
        img = ImageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.MINUTES);
    }

    /** Closes the client, the server and the Berth; pods and containers keep running. */
    void closeServer() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        server.close();
        berth.close();
    }

    RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return rt.withDeadlineAfter(2, TimeUnit.MINUTES);
    }

    RuntimeServiceGrpc.RuntimeServiceStub async() {
        return RuntimeServiceGrpc.newStub(channel);
    }

    ImageServiceGrpc.ImageServiceBlockingStub img() {
        return img.withDeadlineAfter(2, TimeUnit.MINUTES);
    }

    static PodSandboxConfig.Builder pod(String name) {
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace("default")
                        .setUid("uid-" + name).setAttempt(0))
                .setHostname(name).setLinux(LinuxPodSandboxConfig.newBuilder());
    }

    PodSandboxConfig.Builder podWithLogs(String name) throws IOException {
        return pod(name).setLogDirectory(Files.createDirectories(logDir.resolve(name)).toString());
    }

    String runPod(PodSandboxConfig config) {
        return rt().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config).build()).getPodSandboxId();
    }

    static ContainerConfig.Builder container(String name, String... command) {
        return ContainerConfig.newBuilder().setMetadata(ContainerMetadata.newBuilder().setName(name))
                .setImage(ImageSpec.newBuilder().setImage(BUSYBOX)).addAllCommand(List.of(command));
    }

    String create(String podId, PodSandboxConfig pod, ContainerConfig config) {
        return rt().createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(podId).setConfig(config)
                .setSandboxConfig(pod).build()).getContainerId();
    }

    String createAndStart(String podId, PodSandboxConfig pod, ContainerConfig config) {
        String id = create(podId, pod, config);
        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        return id;
    }

    ContainerStatus status(String id) {
        return rt().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id).build()).getStatus();
    }

    ContainerStatus awaitExit(String id, Duration within) {
        Awaitility.await().atMost(within).pollInterval(Duration.ofMillis(100))
                .until(() -> status(id).getState() == ContainerState.CONTAINER_EXITED);
        return status(id);
    }

    void removePod(String id) {
        rt().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        rt().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
    }

    /** The pid of a container's process, from the verbose status. */
    long taskPid(String containerId) {
        String info = rt().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(containerId)
                .setVerbose(true).build()).getInfoMap().get("info");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"pid\":(\\d+)").matcher(info);
        assertThat(m.find()).as(info).isTrue();
        return Long.parseLong(m.group(1));
    }

    /** The pids of this root's shims started for task {@code id} (named by {@code -id} on their command line). */
    List<Long> shimsStartedFor(String id) {
        java.util.regex.Pattern named = java.util.regex.Pattern.compile("(^|\\s)-id " + java.util.regex.Pattern.quote(id)
                + "(\\s|$)");
        return ProcessHandle.allProcesses().filter(ph -> {
            String cmd = ph.info().commandLine().orElse("");
            return cmd.contains("containerd-shim") && cmd.contains(state.toString()) && named.matcher(cmd).find();
        }).map(ProcessHandle::pid).toList();
    }

    /** The parent of process {@code pid} (a container's process: its shim). */
    static long parentOf(long pid) {
        return ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(-1L);
    }

    /** Live shims serving this root (their command line names its state directory). */
    long shimsOfRoot() {
        return shimPidsOfRoot().size();
    }

    /**
     * Live shims serving this root's tasks, without the runtime's one idle spare (launched ahead for the next
     * pod, stopped with the server; see {@link #spareShimPids()}).
     */
    List<Long> shimPidsOfRoot() {
        List<Long> spares = spareShimPids();
        return allShimPidsOfRoot().stream().filter(p -> !spares.contains(p)).toList();
    }

    List<Long> allShimPidsOfRoot() {
        return ProcessHandle.allProcesses().filter(ph -> {
            String cmd = ph.info().commandLine().orElse("");
            return cmd.contains("containerd-shim") && cmd.contains(state.toString());
        }).map(ProcessHandle::pid).toList();
    }

    /**
     * The runtime's spare shims of this root not handed over to a pod: their {@code -id} names a shim home
     * ({@code <state>/shims/k8s.io/<id>}) without the hand-over mark.
     */
    List<Long> spareShimPids() {
        return allShimPidsOfRoot().stream().filter(p -> {
            String id = shimIdOf(p);
            Path home = state.resolve("shims").resolve(CriServer.NAMESPACE).resolve(id);
            return id.startsWith("berth-shim-") && Files.isDirectory(home) && !Files.exists(home.resolve("berth-group-shim"));
        }).toList();
    }

    /** The {@code -id} on shim {@code pid}'s command line ("" if it is gone). */
    static String shimIdOf(long pid) {
        String cmd = ProcessHandle.of(pid).flatMap(ph -> ph.info().commandLine()).orElse("");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?:^|\\s)-id (\\S+)").matcher(cmd);
        return m.find() ? m.group(1) : "";
    }

    /**
     * The shim group shim {@code pid} serves: a spare handed over to a pod is named after its {@code -id}, a
     * shim started by a pod's sandbox serves the group named after that pod.
     */
    static String groupOfShim(long pid) {
        String id = shimIdOf(pid);
        return id.startsWith("berth-shim-") ? id : "berth-pods-" + id;
    }

    /** The pid of a pod's pause process, from the verbose sandbox status. */
    long pausePid(String podId) {
        String info = rt().podSandboxStatus(dev.berth.cri.internal.proto.PodSandboxStatusRequest.newBuilder()
                .setPodSandboxId(podId).setVerbose(true).build()).getInfoMap().get("info");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"pid\":(\\d+)").matcher(info);
        assertThat(m.find()).as(info).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Override
    public void close() throws Exception {
        try {
            if (server != null) {
                for (PodSandbox p : rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
                    removePod(p.getId());
                }
                closeServer();
            }
        } finally {
            new ProcessBuilder("ip", "link", "del", bridge).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
            deleteTree(Path.of("/var/lib/cni/networks").resolve(network));
            deleteTree(confDir);
            deleteTree(logDir);
            deleteTree(state);
            deleteTree(root);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        assertThat(dev.berth.sys.MountInfo.mountPointsUnder(dir)).as("mounts left under %s", dir).isEmpty();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
