package dev.berth.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.berth.cri.internal.proto.CgroupDriver;
import dev.berth.cri.internal.proto.ContainerEventResponse;
import dev.berth.cri.internal.proto.ContainerEventType;
import dev.berth.cri.internal.proto.ContainerFilter;
import dev.berth.cri.internal.proto.ContainerState;
import dev.berth.cri.internal.proto.ContainerStats;
import dev.berth.cri.internal.proto.ContainerStatsFilter;
import dev.berth.cri.internal.proto.ContainerStatsRequest;
import dev.berth.cri.internal.proto.ContainerStatus;
import dev.berth.cri.internal.proto.ContainerStatusRequest;
import dev.berth.cri.internal.proto.ExecRequest;
import dev.berth.cri.internal.proto.ExecSyncRequest;
import dev.berth.cri.internal.proto.ExecSyncResponse;
import dev.berth.cri.internal.proto.FilesystemUsage;
import dev.berth.cri.internal.proto.GetEventsRequest;
import dev.berth.cri.internal.proto.ImageFsInfoRequest;
import dev.berth.cri.internal.proto.Int64Value;
import dev.berth.cri.internal.proto.KeyValue;
import dev.berth.cri.internal.proto.LinuxContainerConfig;
import dev.berth.cri.internal.proto.LinuxContainerResources;
import dev.berth.cri.internal.proto.LinuxContainerSecurityContext;
import dev.berth.cri.internal.proto.LinuxPodSandboxConfig;
import dev.berth.cri.internal.proto.LinuxSandboxSecurityContext;
import dev.berth.cri.internal.proto.ListContainerStatsRequest;
import dev.berth.cri.internal.proto.ListContainersRequest;
import dev.berth.cri.internal.proto.ListPodSandboxRequest;
import dev.berth.cri.internal.proto.NamespaceMode;
import dev.berth.cri.internal.proto.NamespaceOption;
import dev.berth.cri.internal.proto.PodSandboxConfig;
import dev.berth.cri.internal.proto.PodSandboxFilter;
import dev.berth.cri.internal.proto.PodSandboxState;
import dev.berth.cri.internal.proto.PodSandboxStateValue;
import dev.berth.cri.internal.proto.PodSandboxStatsRequest;
import dev.berth.cri.internal.proto.PodSandboxStatusRequest;
import dev.berth.cri.internal.proto.PodSandboxStatusResponse;
import dev.berth.cri.internal.proto.PortMapping;
import dev.berth.cri.internal.proto.Protocol;
import dev.berth.cri.internal.proto.RemoveContainerRequest;
import dev.berth.cri.internal.proto.RemovePodSandboxRequest;
import dev.berth.cri.internal.proto.ReopenContainerLogRequest;
import dev.berth.cri.internal.proto.RuntimeConfigRequest;
import dev.berth.cri.internal.proto.SecurityProfile;
import dev.berth.cri.internal.proto.StartContainerRequest;
import dev.berth.cri.internal.proto.StatusRequest;
import dev.berth.cri.internal.proto.StopContainerRequest;
import dev.berth.cri.internal.proto.StopPodSandboxRequest;
import dev.berth.cri.internal.proto.UpdateContainerResourcesRequest;
import dev.berth.cri.internal.proto.VersionRequest;
import dev.berth.testing.Busybox;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The CRI server over a real Berth root: runc, shims, CNI bridge and portmap, a gRPC client on its socket. */
class CriServerIT {
    private static final Pattern LOG_LINE = Pattern.compile("^(\\S+) (stdout|stderr) ([FP]) (.*)$");
    private static CriHarness h;

    @BeforeAll
    static void start() throws Exception {
        h = new CriHarness();
    }

    @AfterAll
    static void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    private static Status.Code code(Runnable call) {
        try {
            call.run();
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    /** {@code call} is refused as INVALID_ARGUMENT with {@code reason} in the message. */
    private static void assertInvalidArgument(Runnable call, String reason) {
        try {
            call.run();
        } catch (StatusRuntimeException e) {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains(reason);
            return;
        }
        throw new AssertionError("the call must be refused (" + reason + ")");
    }

    @Test
    void versionStatusAndRuntimeConfigDescribeTheRuntime() {
        assertThat(h.rt().version(VersionRequest.getDefaultInstance()).getRuntimeName()).isEqualTo("berth");
        var status = h.rt().status(StatusRequest.getDefaultInstance()).getStatus().getConditionsList();
        assertThat(status).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("NetworkReady");
            assertThat(c.getStatus()).isTrue();
        }).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("RuntimeReady");
            assertThat(c.getStatus()).isTrue();
        });
        assertThat(h.rt().runtimeConfig(RuntimeConfigRequest.getDefaultInstance()).getLinux().getCgroupDriver())
                .isEqualTo(CgroupDriver.CGROUPFS);
        assertThat(code(() -> h.rt().exec(ExecRequest.newBuilder().setContainerId("x").build())))
                .isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void sandboxLifecycleReservesItsNameUntilRemoved() throws Exception {
        PodSandboxConfig config = CriHarness.pod("life").build();
        String id = h.runPod(config);
        PodSandboxStatusResponse st = h.rt().podSandboxStatus(PodSandboxStatusRequest.newBuilder()
                .setPodSandboxId(id).setVerbose(true).build());
        assertThat(st.getStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
        assertThat(st.getStatus().getNetwork().getIp()).startsWith("10.77." + h.subnet + ".");
        assertThat(st.getInfoMap().get("info")).contains("cni-");
        assertThat(h.rt().listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(PodSandboxFilter.newBuilder()
                .setId(id.substring(0, 12))).build()).getItemsList()).singleElement()
                .satisfies(p -> assertThat(p.getId()).isEqualTo(id));
        Matcher nm = Pattern.compile("\"netns\":\"([^\"]+)\"").matcher(st.getInfoMap().get("info"));
        assertThat(nm.find()).isTrue();
        List<Path> netns = List.of(Path.of(nm.group(1)));
        assertThat(netns.get(0)).exists();
        assertThat(h.shimsOfRoot()).as("the pause container's shim").isPositive();

        assertThat(code(() -> h.runPod(config))).isEqualTo(Status.Code.ALREADY_EXISTS);

        h.rt().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        h.rt().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        assertThat(h.rt().listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(PodSandboxFilter.newBuilder()
                .setState(PodSandboxStateValue.newBuilder().setState(PodSandboxState.SANDBOX_NOTREADY))).build())
                .getItemsList()).anySatisfy(p -> assertThat(p.getId()).isEqualTo(id));
        for (Path n : netns) {
            assertThat(n).doesNotExist();
        }
        assertThat(code(() -> h.runPod(config))).as("still reserved while stopped").isEqualTo(Status.Code.ALREADY_EXISTS);

        h.rt().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        h.rt().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        assertThat(code(() -> h.rt().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(id).build())))
                .isEqualTo(Status.Code.NOT_FOUND);
        // the record, snapshot and files go in the background once the pod is gone for the kubelet
        Awaitility.await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(h.berth.namespace(CriServer.NAMESPACE).containers().list("id==" + id)).isEmpty());

        String again = h.runPod(config);
        assertThat(again).isNotEqualTo(id);
        h.removePod(again);
    }

    @Test
    void twoContainersOfAPodTalkOverLocalhostAndTheLogsAreInTheCriFormat() throws Exception {
        PodSandboxConfig pod = h.podWithLogs("pair").build();
        String podId = h.runPod(pod);
        String server = h.createAndStart(podId, pod, CriHarness.container("server", "sh", "-c",
                "mkdir -p /www && echo hello-from-server > /www/index.html && exec httpd -f -p 8080 -h /www")
                .setLogPath("server/0.log").build());
        String client = h.createAndStart(podId, pod, CriHarness.container("client", "sh", "-c",
                "until wget -q -O - http://127.0.0.1:8080/; do sleep 0.2; done; echo to-stderr >&2")
                .setLogPath("client/0.log").build());
        ContainerStatus done = h.awaitExit(client, Duration.ofSeconds(60));
        assertThat(done.getExitCode()).isZero();
        assertThat(done.getReason()).isEqualTo("Completed");
        assertThat(done.getFinishedAt()).isGreaterThanOrEqualTo(done.getStartedAt()).isPositive();

        List<String> lines = Files.readAllLines(Path.of(done.getLogPath()), StandardCharsets.UTF_8);
        assertThat(lines).hasSize(2);
        // stdout and stderr are two pipes, copied apart: their records need not be in the order written
        String out = lines.stream().filter(l -> l.contains(" stdout ")).findFirst().orElseThrow();
        String err = lines.stream().filter(l -> l.contains(" stderr ")).findFirst().orElseThrow();
        assertRecord(out, "stdout", "F", "hello-from-server");
        assertRecord(err, "stderr", "F", "to-stderr");

        // one shim for the pod, as containerd's CRI has it: the sandbox's serves both containers
        // (started for the sandbox, or the warm shim it took: named after the pod or the shim's group)
        long podShim = CriHarness.parentOf(h.pausePid(podId));
        assertThat(h.shimPidsOfRoot()).as("the sandbox's shim").contains(podShim);
        assertThat(CriHarness.shimIdOf(podShim)).satisfiesAnyOf(id -> assertThat(id).isEqualTo(podId),
                id -> assertThat(id).startsWith("berth-shim-"));
        assertThat(h.shimsStartedFor(server)).as("a shim of the server container's own").isEmpty();
        assertThat(h.shimsStartedFor(client)).as("a shim of the client container's own").isEmpty();
        assertThat(CriHarness.parentOf(h.taskPid(server))).as("the server's shim").isEqualTo(podShim);
        assertThat(h.rt().listContainers(ListContainersRequest.getDefaultInstance()).getContainersList())
                .filteredOn(c -> c.getPodSandboxId().equals(podId)).hasSize(2);
        h.removePod(podId);
        assertThat(h.rt().listContainers(ListContainersRequest.getDefaultInstance()).getContainersList())
                .noneMatch(c -> c.getPodSandboxId().equals(podId));
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(ProcessHandle.of(podShim).map(ProcessHandle::isAlive).orElse(false))
                        .as("the pod's shim after its removal").isFalse());
    }

    private static void assertRecord(String line, String stream, String tag, String content) {
        Matcher m = LOG_LINE.matcher(line);
        assertThat(m.matches()).as("CRI log record: %s", line).isTrue();
        assertThat(OffsetDateTime.parse(m.group(1))).isNotNull();
        assertThat(m.group(2)).isEqualTo(stream);
        assertThat(m.group(3)).isEqualTo(tag);
        assertThat(m.group(4)).isEqualTo(content);
    }

    @Test
    void longLinesArePartialRecordsAndReopenStartsANewFile() throws Exception {
        PodSandboxConfig pod = h.podWithLogs("logs").build();
        String podId = h.runPod(pod);
        String id = h.createAndStart(podId, pod, CriHarness.container("ticker", "sh", "-c",
                "head -c 20000 /dev/zero | tr '\\0' a; echo; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done")
                .setLogPath("ticker.log").build());
        Path log = Path.of(h.status(id).getLogPath());
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(log).contains("tick 3"));
        List<String> lines = Files.readAllLines(log);
        assertRecord(lines.get(0), "stdout", "P", "a".repeat(16 * 1024));
        assertRecord(lines.get(1), "stdout", "F", "a".repeat(20000 - 16 * 1024));

        Path rotated = log.resolveSibling("ticker.log.1");
        Files.move(log, rotated);
        h.rt().reopenContainerLog(ReopenContainerLogRequest.newBuilder().setContainerId(id).build());
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(log) && Files.readString(log).contains("tick"));
        long rotatedSize = Files.size(rotated);
        Awaitility.await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
                .until(() -> Files.size(rotated) == rotatedSize);
        assertThat(Files.readAllLines(log)).allSatisfy(l -> assertThat(LOG_LINE.matcher(l).matches()).isTrue());
        h.removePod(podId);
    }

    @Test
    void execSyncGivesOutputAndExitCodeAndTimesOut() {
        PodSandboxConfig pod = CriHarness.pod("exec").build();
        String podId = h.runPod(pod);
        String id = h.createAndStart(podId, pod, CriHarness.container("sleeper", "sleep", "3600").build());
        ExecSyncResponse r = h.rt().execSync(ExecSyncRequest.newBuilder().setContainerId(id)
                .addAllCmd(List.of("sh", "-c", "echo out; echo err >&2; exit 7")).setTimeout(30).build());
        assertThat(r.getStdout().toStringUtf8()).isEqualTo("out\n");
        assertThat(r.getStderr().toStringUtf8()).isEqualTo("err\n");
        assertThat(r.getExitCode()).isEqualTo(7);
        long t0 = System.nanoTime();
        assertThat(code(() -> h.rt().execSync(ExecSyncRequest.newBuilder().setContainerId(id)
                .addAllCmd(List.of("sleep", "60")).setTimeout(1).build()))).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));
        h.removePod(podId);
    }

    @Test
    void stopSendsTheSignalThenSigkillAfterTheGracePeriod() {
        PodSandboxConfig pod = CriHarness.pod("stops").build();
        String podId = h.runPod(pod);
        String polite = h.createAndStart(podId, pod, CriHarness.container("polite", "sh", "-c",
                "trap 'exit 3' TERM; while true; do sleep 0.1; done").build());
        String stubborn = h.createAndStart(podId, pod, CriHarness.container("stubborn", "sh", "-c",
                "trap '' TERM; while true; do sleep 0.1; done").build());
        // both shells must have installed their traps
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> h.rt().execSync(ExecSyncRequest.newBuilder()
                .setContainerId(stubborn).addAllCmd(List.of("true")).setTimeout(10).build()).getExitCode() == 0);

        h.rt().stopContainer(StopContainerRequest.newBuilder().setContainerId(polite).setTimeout(30).build());
        ContainerStatus p = h.status(polite);
        assertThat(p.getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
        assertThat(p.getExitCode()).isEqualTo(3);
        assertThat(p.getReason()).isEqualTo("Error");

        long t0 = System.nanoTime();
        h.rt().stopContainer(StopContainerRequest.newBuilder().setContainerId(stubborn).setTimeout(1).build());
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(h.status(stubborn).getExitCode()).isEqualTo(137);
        h.rt().stopContainer(StopContainerRequest.newBuilder().setContainerId(stubborn).setTimeout(1).build());
        h.rt().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(stubborn).build());
        h.rt().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(stubborn).build());
        assertThat(code(() -> h.status(stubborn))).isEqualTo(Status.Code.NOT_FOUND);
        h.removePod(podId);
    }

    @Test
    void aContainerOverItsMemoryLimitIsReportedOomKilled() {
        PodSandboxConfig pod = CriHarness.pod("oom").build();
        String podId = h.runPod(pod);
        long limit = 16L * 1024 * 1024;
        String id = h.createAndStart(podId, pod, CriHarness.container("hog", "tail", "/dev/zero")
                .setLinux(LinuxContainerConfig.newBuilder().setResources(LinuxContainerResources.newBuilder()
                        .setMemoryLimitInBytes(limit).setMemorySwapLimitInBytes(limit))).build());
        ContainerStatus st = h.awaitExit(id, Duration.ofSeconds(60));
        assertThat(st.getReason()).isEqualTo("OOMKilled");
        assertThat(st.getExitCode()).isEqualTo(137);
        h.removePod(podId);
    }

    @Test
    void aContainerRemovedTheMomentItsExitIsSeenIsRemovedAndItsLogIsWhole() throws Exception {
        // the exit is reported before the task's delete has finished: removing and stopping then must wait
        // for that delete, not signal a task whose connection it closes (4 pods at once make the window wide)
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> pods = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                String name = "exit-race-" + p;
                pods.add(pool.submit(() -> {
                    removeEachContainerTheMomentItExits(h.podWithLogs(name).build(), 12);
                    return null;
                }));
            }
            for (Future<?> f : pods) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private void removeEachContainerTheMomentItExits(PodSandboxConfig pod, int containers) throws IOException {
        String podId = h.runPod(pod);
        try {
            for (int i = 0; i < containers; i++) {
                String id = h.createAndStart(podId, pod, CriHarness.container("quick-" + i, "echo", "line-" + i)
                        .setLogPath("quick-" + i + ".log").build());
                Awaitility.await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO)
                        .pollInterval(Duration.ofMillis(1))
                        .until(() -> h.status(id).getState() == ContainerState.CONTAINER_EXITED);
                assertThat(h.status(id).getExitCode()).isZero();
                assertThat(Files.readString(Path.of(pod.getLogDirectory(), "quick-" + i + ".log")))
                        .as("the log is whole once the exit shows").endsWith(" stdout F line-" + i + "\n");
                if (i % 2 == 0) {
                    h.rt().stopContainer(StopContainerRequest.newBuilder().setContainerId(id).setTimeout(10).build());
                }
                h.rt().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(id).build());
            }
            assertThat(h.rt().listContainers(ListContainersRequest.newBuilder().setFilter(ContainerFilter.newBuilder()
                    .setPodSandboxId(podId)).build()).getContainersList()).isEmpty();
        } finally {
            h.removePod(podId);
        }
    }

    @Test
    void seccompFollowsTheSecurityContextsOfSandboxAndContainerAndUnsetIsUnconfined() throws Exception {
        SecurityProfile runtimeDefault = SecurityProfile.newBuilder()
                .setProfileType(SecurityProfile.ProfileType.RuntimeDefault).build();
        PodSandboxConfig confined = CriHarness.pod("seccomp-pod").setLinux(LinuxPodSandboxConfig.newBuilder()
                .setSecurityContext(LinuxSandboxSecurityContext.newBuilder().setSeccomp(runtimeDefault))).build();
        PodSandboxConfig plain = CriHarness.pod("seccomp-unset").build();
        String confinedId = h.runPod(confined);
        String plainId = h.runPod(plain);
        try {
            assertThat(seccompMode(pausePid(confinedId))).as("RuntimeDefault sandbox").isEqualTo("2");
            assertThat(seccompMode(pausePid(plainId))).as("unset, as containerd and kubelet read it").isEqualTo("0");

            String unset = h.createAndStart(plainId, plain, CriHarness.container("unset", "sleep", "600").build());
            String filtered = h.createAndStart(plainId, plain, CriHarness.container("filtered", "sleep", "600")
                    .setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(LinuxContainerSecurityContext
                            .newBuilder().setSeccomp(runtimeDefault))).build());
            assertThat(execOut(unset, "grep Seccomp: /proc/self/status")).contains("Seccomp:\t0");
            assertThat(execOut(filtered, "grep Seccomp: /proc/self/status")).contains("Seccomp:\t2");

            // a profile file that is not there is refused with its path, for a sandbox as for a container
            assertInvalidArgument(() -> h.runPod(CriHarness.pod("seccomp-missing").setLinux(LinuxPodSandboxConfig
                    .newBuilder().setSecurityContext(LinuxSandboxSecurityContext.newBuilder().setSeccomp(SecurityProfile
                            .newBuilder().setProfileType(SecurityProfile.ProfileType.Localhost)
                            .setLocalhostRef("/nonexistent/profile.json")))).build()), "/nonexistent/profile.json");
        } finally {
            h.removePod(confinedId);
            h.removePod(plainId);
        }
    }

    @Test
    void noNewPrivsMaskedAndReadOnlyPathsAreTheRequestsAndOpenFilesAreTheServers() throws Exception {
        PodSandboxConfig pod = CriHarness.pod("privs").build();
        String podId = h.runPod(pod);
        try {
            // kubelet's request for allowPrivilegeEscalation: false, with its own short lists
            String strict = h.createAndStart(podId, pod, CriHarness.container("strict", "sleep", "600")
                    .setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(LinuxContainerSecurityContext
                            .newBuilder().setNoNewPrivs(true).addMaskedPaths("/proc/timer_list")
                            .addReadonlyPaths("/proc/sys"))).build());
            // nothing set: what kubelet sends for procMount Unmasked and allowPrivilegeEscalation unset
            String open = h.createAndStart(podId, pod, CriHarness.container("open", "sleep", "600").build());

            assertThat(execOut(strict, "grep NoNewPrivs: /proc/self/status")).contains("NoNewPrivs:\t1");
            assertThat(execOut(open, "grep NoNewPrivs: /proc/self/status"))
                    .as("setuid binaries work unless the request says no_new_privs").contains("NoNewPrivs:\t0");

            String strictMounts = execOut(strict, "cat /proc/self/mountinfo");
            assertThat(mountAt(strictMounts, "/proc/timer_list")).as(strictMounts).isPresent();
            assertThat(mountAt(strictMounts, "/proc/sys")).as(strictMounts).hasValueSatisfying(
                    options -> assertThat(options.split(",")).contains("ro"));
            assertThat(mountAt(strictMounts, "/proc/keys")).as("only the listed paths are masked").isEmpty();
            String openMounts = execOut(open, "cat /proc/self/mountinfo");
            assertThat(mountAt(openMounts, "/proc/timer_list")).as(openMounts).isEmpty();
            assertThat(mountAt(openMounts, "/proc/sys")).as(openMounts).isEmpty();

            // no rlimits in the spec: the limit the server's process has (the shim inherits it), as containerd's
            String serverLimit = openFilesLimit(Files.readString(Path.of("/proc/self/limits")));
            assertThat(openFilesLimit(execOut(open, "cat /proc/self/limits"))).isEqualTo(serverLimit);
            assertThat(openFilesLimit(Files.readString(Path.of("/proc", Long.toString(pausePid(podId)), "limits"))))
                    .as("the pause process's").isEqualTo(serverLimit);
        } finally {
            h.removePod(podId);
        }
    }

    private static String openFilesLimit(String limits) {
        return limits.lines().filter(l -> l.startsWith("Max open files")).findFirst().orElseThrow().strip();
    }

    @Test
    void containersFindThePodsHostnameInHOSTNAMEUnlessTheirConfigSetsIt() {
        PodSandboxConfig pod = CriHarness.pod("named").setHostname("web-0").build();
        String podId = h.runPod(pod);
        try {
            String plain = h.createAndStart(podId, pod, CriHarness.container("plain", "sleep", "600").build());
            String own = h.createAndStart(podId, pod, CriHarness.container("own", "sleep", "600")
                    .addEnvs(KeyValue.newBuilder().setKey("HOSTNAME").setValue("mine")).build());

            assertThat(execOut(plain, "echo $HOSTNAME; hostname")).isEqualTo("web-0\nweb-0\n");
            assertThat(execOut(own, "echo $HOSTNAME")).isEqualTo("mine\n");
        } finally {
            h.removePod(podId);
        }
    }

    @Test
    void aContainerWithoutNamespaceOptionsSharesThePodsPidNamespaceAsTheCriSays() {
        PodSandboxConfig pod = CriHarness.pod("pidns").build();
        String podId = h.runPod(pod);
        try {
            String shared = h.createAndStart(podId, pod, CriHarness.container("shared", "sleep", "600").build());
            String own = h.createAndStart(podId, pod, CriHarness.container("own", "sleep", "600")
                    .setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(LinuxContainerSecurityContext
                            .newBuilder().setNamespaceOptions(NamespaceOption.newBuilder()
                                    .setPid(NamespaceMode.CONTAINER)))).build());

            assertThat(execOut(shared, "cat /proc/1/cmdline")).as("the pause process is pid 1").contains("pause");
            assertThat(execOut(own, "cat /proc/1/cmdline")).startsWith("sleep");
        } finally {
            h.removePod(podId);
        }
    }

    @Test
    void aContainerThatCannotStartHasExitedWithStartError() {
        PodSandboxConfig pod = CriHarness.pod("starterror").build();
        String podId = h.runPod(pod);
        try {
            String id = h.create(podId, pod, CriHarness.container("missing", "/no/such/binary").build());
            assertThatThrownBy(() -> h.rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build()))
                    .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("/no/such/binary");

            // as containerd's CRI reports it, so that kubelet shows StartError and restarts by the pod's policy
            ContainerStatus s = h.status(id);
            assertThat(s.getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
            assertThat(s.getExitCode()).isEqualTo(128);
            assertThat(s.getReason()).isEqualTo("StartError");
            assertThat(s.getMessage()).contains("/no/such/binary");
            assertThat(s.getFinishedAt()).isPositive();
            assertThat(s.getStartedAt()).isZero();
            h.rt().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(id).build());
        } finally {
            h.removePod(podId);
        }
    }

    @Test
    void resourcesUpdatedBeforeTheStartApplyAtTheStartAndShowInTheStatus() throws Exception {
        PodSandboxConfig pod = CriHarness.pod("resize").build();
        String podId = h.runPod(pod);
        try {
            String id = h.create(podId, pod, CriHarness.container("app", "sleep", "600")
                    .setLinux(LinuxContainerConfig.newBuilder().setResources(LinuxContainerResources.newBuilder()
                            .setMemoryLimitInBytes(64L << 20).setCpuShares(256))).build());
            h.rt().updateContainerResources(UpdateContainerResourcesRequest.newBuilder().setContainerId(id)
                    .setLinux(LinuxContainerResources.newBuilder().setMemoryLimitInBytes(96L << 20)).build());
            h.rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());

            assertThat(memoryLimit(id)).isEqualTo(String.valueOf(96L << 20));
            LinuxContainerResources shown = h.status(id).getResources().getLinux();
            assertThat(shown.getMemoryLimitInBytes()).isEqualTo(96L << 20);
            assertThat(shown.getCpuShares()).as("what the update left unset stays").isEqualTo(256);

            // an exited container takes the update into its record, as containerd's CRI does
            h.rt().stopContainer(StopContainerRequest.newBuilder().setContainerId(id).setTimeout(0).build());
            h.rt().updateContainerResources(UpdateContainerResourcesRequest.newBuilder().setContainerId(id)
                    .setLinux(LinuxContainerResources.newBuilder().setCpuShares(512)).build());
            assertThat(h.status(id).getResources().getLinux().getCpuShares()).isEqualTo(512);
        } finally {
            h.removePod(podId);
        }
    }

    @Test
    void statsGiveTheCpuRateAndTheWritableLayerOnTheImageFileSystem() throws IOException {
        PodSandboxConfig pod = CriHarness.pod("stats").build();
        String podId = h.runPod(pod);
        try {
            String id = h.createAndStart(podId, pod, CriHarness.container("busy", "sh", "-c",
                    "dd if=/dev/zero of=/data bs=1024 count=2048 2>/dev/null; touch /ready; while :; do :; done").build());
            Awaitility.await().atMost(Duration.ofSeconds(20))
                    .until(() -> h.rt().execSync(ExecSyncRequest.newBuilder().setContainerId(id)
                            .addAllCmd(List.of("test", "-e", "/ready")).setTimeout(10).build()).getExitCode() == 0);

            ContainerStats first = h.rt().containerStats(ContainerStatsRequest.newBuilder().setContainerId(id).build())
                    .getStats();
            assertThat(first.getMemory().getPageFaults().getValue()).isPositive();
            assertThat(first.getMemory().getWorkingSetBytes().getValue())
                    .isLessThanOrEqualTo(first.getMemory().getUsageBytes().getValue()).isPositive();
            FilesystemUsage layer = first.getWritableLayer();
            assertThat(layer.getUsedBytes().getValue()).as("the 2 MiB file").isGreaterThanOrEqualTo(2L << 20);
            assertThat(layer.getInodesUsed().getValue()).isGreaterThanOrEqualTo(2);
            String imageFs = h.img.imageFsInfo(ImageFsInfoRequest.getDefaultInstance()).getImageFilesystems(0)
                    .getFsId().getMountpoint();
            assertThat(layer.getFsId().getMountpoint()).isEqualTo(imageFs);

            // the rate needs two samples; the busy loop keeps about one core
            Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).untilAsserted(() ->
                    assertThat(h.rt().containerStats(ContainerStatsRequest.newBuilder().setContainerId(id).build())
                            .getStats().getCpu().getUsageNanoCores().getValue()).isGreaterThan(100_000_000L));
            // the pod's network counters: a connection from the host to a closed port of the pod (a SYN in, a RST out)
            String podIp = h.rt().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(podId).build())
                    .getStatus().getNetwork().getIp();
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress(podIp, 9), 5000);
            } catch (java.net.ConnectException refused) {
                // what was asked for
            }
            var eth0 = h.rt().podSandboxStats(PodSandboxStatsRequest.newBuilder().setPodSandboxId(podId).build())
                    .getStats().getLinux().getNetwork().getDefaultInterface();
            assertThat(eth0.getName()).isEqualTo("eth0");
            assertThat(eth0.getRxBytes().getValue()).isPositive();
            assertThat(eth0.getTxBytes().getValue()).isPositive();
            // the pod's rate too, and its container's entry in the same answer
            Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
                var sum = h.rt().podSandboxStats(PodSandboxStatsRequest.newBuilder().setPodSandboxId(podId).build())
                        .getStats().getLinux();
                assertThat(sum.getCpu().getUsageNanoCores().getValue()).isGreaterThan(100_000_000L);
                assertThat(sum.getMemory().getRssBytes().getValue()).isPositive();
                assertThat(sum.getContainersList()).singleElement().satisfies(c ->
                        assertThat(c.getCpu().getUsageCoreNanoSeconds().getValue())
                                .isLessThanOrEqualTo(sum.getCpu().getUsageCoreNanoSeconds().getValue()).isPositive());
            });
        } finally {
            h.removePod(podId);
        }
    }

    /** The mount options of the mount at {@code target} in a mountinfo text, if any. */
    private static Optional<String> mountAt(String mountinfo, String target) {
        return mountinfo.lines().map(l -> l.split(" ")).filter(f -> f[4].equals(target)).map(f -> f[5])
                .reduce((first, last) -> last);
    }

    private long pausePid(String podId) throws IOException {
        String info = h.rt().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(podId)
                .setVerbose(true).build()).getInfoOrThrow("info");
        long pid = new com.fasterxml.jackson.databind.ObjectMapper().readTree(info).path("pid").asLong();
        assertThat(pid).as(info).isPositive();
        return pid;
    }

    private static String seccompMode(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(l -> l.startsWith("Seccomp:")).findFirst().orElseThrow().substring("Seccomp:".length()).trim();
    }

    private String execOut(String id, String script) {
        ExecSyncResponse r = h.rt().execSync(ExecSyncRequest.newBuilder().setContainerId(id)
                .addAllCmd(List.of("sh", "-c", script)).setTimeout(20).build());
        assertThat(r.getExitCode()).as(r.getStderr().toStringUtf8()).isZero();
        return r.getStdout().toStringUtf8();
    }

    @Test
    void aHostDeviceAppearsAtItsContainerPathWithTheGivenCgroupAccess() {
        // devices the default rules do not allow, so only the mapping's rule lets them be opened
        PodSandboxConfig pod = CriHarness.pod("devices").build();
        String podId = h.runPod(pod);
        try {
            String id = h.createAndStart(podId, pod, CriHarness.container("dev", "sleep", "600")
                    .addDevices(dev.berth.cri.internal.proto.Device.newBuilder().setHostPath("/dev/loop0")
                            .setContainerPath("/dev/berth-loop").setPermissions("r"))
                    .addDevices(dev.berth.cri.internal.proto.Device.newBuilder().setHostPath("/dev/loop-control")
                            .setContainerPath("/dev/berth-loop-control").setPermissions("rw"))
                    .build());
            ExecSyncResponse r = h.rt().execSync(ExecSyncRequest.newBuilder().setContainerId(id).addAllCmd(List.of(
                    "sh", "-c", "[ -b /dev/berth-loop ] && stat -c %t:%T /dev/berth-loop;"
                            + " (exec 3</dev/berth-loop) && echo read-ok;"
                            + " (exec 3>/dev/berth-loop) 2>/dev/null && echo write-ok || echo write-denied;"
                            + " (exec 3>/dev/berth-loop-control) && echo control-write-ok"))
                    .setTimeout(20).build());
            assertThat(r.getStdout().toStringUtf8().lines().toList()).as(r.getStderr().toStringUtf8())
                    .containsExactly("7:0", "read-ok", "write-denied", "control-write-ok");

            // a host path that holds no device node is refused with the reason
            assertInvalidArgument(() -> h.create(podId, pod, CriHarness.container("nodev", "true").addDevices(
                    dev.berth.cri.internal.proto.Device.newBuilder().setHostPath("/etc/hostname")
                            .setContainerPath("/dev/x")).build()), "/etc/hostname");
        } finally {
            h.removePod(podId);
        }
    }

    @Test
    void aPodsContainersShareItsDevShmWhichGoesWhenThePodStops() throws Exception {
        PodSandboxConfig pod = CriHarness.pod("shm").build();
        String podId = h.runPod(pod);
        Path shm = h.state.resolve("cri/sandboxes").resolve(podId).resolve("shm");
        try {
            String a = h.createAndStart(podId, pod, CriHarness.container("a", "sleep", "600").build());
            String b = h.createAndStart(podId, pod, CriHarness.container("b", "sleep", "600").build());
            // the pod shares an IPC namespace, so POSIX shared memory (files in /dev/shm) too, as in containerd
            execOut(a, "echo from-a > /dev/shm/segment");
            assertThat(execOut(b, "cat /dev/shm/segment")).isEqualTo("from-a\n");
            assertThat(shm.resolve("segment")).as("the pod's tmpfs on the host").hasContent("from-a");
            // as containerd's CRI: no tmpfs over the image's /run
            assertThat(execOut(a, "cat /proc/mounts")).doesNotContain(" /run tmpfs ");

            // the pause process: read-only root, no /run tmpfs and no cgroup mounts (as containerd's sandbox)
            List<String[]> pause = Files.readAllLines(Path.of("/proc", Long.toString(pausePid(podId)), "mountinfo"))
                    .stream().map(l -> l.split(" ")).toList();
            assertThat(pause).filteredOn(f -> f[4].equals("/")).singleElement()
                    .satisfies(f -> assertThat(f[5]).as("root mount options").startsWith("ro"));
            assertThat(pause).extracting(f -> f[4]).doesNotContain("/run")
                    .noneMatch(m -> m.startsWith("/sys/fs/cgroup")).contains("/dev/shm");

            h.rt().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(podId).build());
            assertThat(dev.berth.sys.MountInfo.mountPointsUnder(shm.getParent())).as("mounts of the stopped pod")
                    .isEmpty();
        } finally {
            h.removePod(podId);
        }
    }

    @Test
    void aPodInTheHostIpcNamespaceHasTheHostsDevShm() throws Exception {
        Path hostFile = Path.of("/dev/shm", "berth-it-" + java.util.UUID.randomUUID());
        Files.writeString(hostFile, "from-host\n");
        PodSandboxConfig pod = CriHarness.pod("host-ipc").setLinux(LinuxPodSandboxConfig.newBuilder()
                .setSecurityContext(LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(
                        dev.berth.cri.internal.proto.NamespaceOption.newBuilder()
                                .setIpc(dev.berth.cri.internal.proto.NamespaceMode.NODE)))).build();
        String podId = h.runPod(pod);
        try {
            String c = h.createAndStart(podId, pod, CriHarness.container("c", "sleep", "600").build());
            assertThat(execOut(c, "cat /dev/shm/" + hostFile.getFileName())).isEqualTo("from-host\n");
            assertThat(h.state.resolve("cri/sandboxes").resolve(podId).resolve("shm")).as("a tmpfs of its own")
                    .doesNotExist();
        } finally {
            h.removePod(podId);
            Files.deleteIfExists(hostFile);
        }
    }

    @Test
    void concurrentPodsLeaveNothingBehind() throws Exception {
        int pods = 20;
        ExecutorService pool = Executors.newFixedThreadPool(pods);
        try {
            List<Future<?>> work = new ArrayList<>();
            for (int i = 0; i < pods; i++) {
                String name = "many-" + i;
                work.add(pool.submit(() -> {
                    PodSandboxConfig pod = CriHarness.pod(name).build();
                    String podId = h.runPod(pod);
                    String c = h.createAndStart(podId, pod, CriHarness.container("c", "sh", "-c", "echo hi").build());
                    assertThat(h.awaitExit(c, Duration.ofSeconds(120)).getExitCode()).isZero();
                    h.removePod(podId);
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(h.rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList())
                .noneMatch(p -> p.getMetadata().getName().startsWith("many-"));
        // pause tasks, sandbox records and snapshots go in the background after the calls return
        Awaitility.await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(h.berth.namespace(CriServer.NAMESPACE).containers().list()).isEmpty();
            assertThat(h.berth.namespace(CriServer.NAMESPACE).tasks().list()).isEmpty();
        });
        try (var s = Files.list(h.state.resolve("cri/netns"))) {
            assertThat(s.toList()).isEmpty();
        }
        // no namespace is bound any more; the directory's own private bind mount stays until the server
        // closes (the harness's close finds no mount under the state dir)
        assertThat(dev.berth.sys.MountInfo.mountPointsUnder(h.state.resolve("cri/netns")))
                .allMatch(m -> m.equals(h.state.resolve("cri/netns")));
        assertThat(dev.berth.sys.MountInfo.mountPointsUnder(h.root)).isEmpty();
        Process p = new ProcessBuilder("ip", "-o", "link", "show", "master", h.bridge).redirectErrorStream(true).start();
        String veths = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        assertThat(veths.trim()).as("veths left on %s", h.bridge).isEmpty();
        // a pod's shim exits at the Shutdown after its last task's delete, which need not wait for it
        Awaitility.await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(h.shimsOfRoot()).as("shims of this root").isZero());
        try (var s = Files.list(h.state.resolve("cri/sandboxes"))) {
            assertThat(s.toList()).isEmpty();
        }
        assertThat(dev.berth.sys.MountInfo.mountPointsUnder(h.state.resolve("cri/sandboxes"))).as("pods' /dev/shm")
                .isEmpty();
    }

    @Test
    void aHostPortReachesThePodFromTheHost() throws Exception {
        int port = dev.berth.testing.TestRegistry.freePort();
        PodSandboxConfig pod = CriHarness.pod("published").addPortMappings(PortMapping.newBuilder()
                .setProtocol(Protocol.TCP).setContainerPort(8080).setHostPort(port)).build();
        String podId = h.runPod(pod);
        h.createAndStart(podId, pod, CriHarness.container("web", "sh", "-c",
                "mkdir -p /www && echo published > /www/index.html && exec httpd -f -p 8080 -h /www").build());
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                .timeout(Duration.ofSeconds(5)).build();
        Awaitility.await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> http.send(get, HttpResponse.BodyHandlers.ofString()).body().equals("published\n"));
        h.removePod(podId);
        assertThat(catchThrowable(() -> http.send(get, HttpResponse.BodyHandlers.ofString())))
                .as("the port is released with the pod").isNotNull();
    }

    @Test
    void eventsStatsResourcesAndSecurityOfARunningContainer() throws Exception {
        List<ContainerEventResponse> seen = new CopyOnWriteArrayList<>();
        Context.CancellableContext listening = Context.current().withCancellation();
        listening.run(() -> h.async().getContainerEvents(GetEventsRequest.getDefaultInstance(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(ContainerEventResponse e) {
                        seen.add(e);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                }));
        PodSandboxConfig pod = CriHarness.pod("inspected").build();
        String podId = h.runPod(pod);
        try {
            // the subscription is live once an event arrives: probe containers until one does
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> {
                if (seen.isEmpty()) {
                    String probe = h.create(podId, pod, CriHarness.container("probe", "true").build());
                    h.rt().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(probe).build());
                }
                return !seen.isEmpty();
            });
            String id = h.createAndStart(podId, pod, CriHarness.container("app", "sleep", "3600")
                    .setLinux(LinuxContainerConfig.newBuilder()
                            .setResources(LinuxContainerResources.newBuilder().setMemoryLimitInBytes(64L << 20))
                            .setSecurityContext(LinuxContainerSecurityContext.newBuilder()
                                    .setRunAsUser(Int64Value.newBuilder().setValue(1000))
                                    .setReadonlyRootfs(true)
                                    .setSeccomp(SecurityProfile.newBuilder()
                                            .setProfileType(SecurityProfile.ProfileType.RuntimeDefault)))).build());
            ExecSyncResponse ids = h.rt().execSync(ExecSyncRequest.newBuilder().setContainerId(id)
                    .addAllCmd(List.of("sh", "-c", "id -u; id -g; grep -E 'Seccomp:|Groups:' /proc/self/status; touch /x"))
                    .setTimeout(30).build());
            // no run_as_group: the uid's primary group from the image's /etc/passwd, as containerd's CRI
            // and it is among the process's groups too (containerd since 1.6.18, CVE-2023-25173)
            assertThat(ids.getStdout().toStringUtf8()).startsWith("1000\n" + Busybox.APP_GID + "\n")
                    .contains("Groups:\t" + Busybox.APP_GID + " \n").contains("Seccomp:\t2");
            assertThat(ids.getStderr().toStringUtf8()).contains("Read-only file system");
            assertThat(ids.getExitCode()).isNotZero();

            assertThat(memoryLimit(id)).isEqualTo(String.valueOf(64L << 20));
            assertNoSwapBeyond(id, 64L << 20); // as containerd's CRI when the request gives no swap limit
            h.rt().updateContainerResources(UpdateContainerResourcesRequest.newBuilder().setContainerId(id)
                    .setLinux(LinuxContainerResources.newBuilder().setMemoryLimitInBytes(96L << 20)).build());
            assertThat(memoryLimit(id)).isEqualTo(String.valueOf(96L << 20));
            assertNoSwapBeyond(id, 96L << 20);

            ContainerStats stats = h.rt().containerStats(ContainerStatsRequest.newBuilder().setContainerId(id).build())
                    .getStats();
            assertThat(stats.getCpu().getUsageCoreNanoSeconds().getValue()).isPositive();
            assertThat(stats.getMemory().getUsageBytes().getValue()).isPositive();
            assertThat(h.rt().listContainerStats(ListContainerStatsRequest.newBuilder().setFilter(
                    ContainerStatsFilter.newBuilder().setPodSandboxId(podId)).build()).getStatsList()).hasSize(1);
            assertThat(h.rt().podSandboxStats(PodSandboxStatsRequest.newBuilder().setPodSandboxId(podId).build())
                    .getStats().getLinux().getProcess().getProcessCount().getValue()).isGreaterThanOrEqualTo(2);

            h.rt().stopContainer(StopContainerRequest.newBuilder().setContainerId(id).setTimeout(0).build());
            h.rt().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(id).build());
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> seen.stream()
                    .filter(e -> e.getContainerId().equals(id)).map(ContainerEventResponse::getContainerEventType)
                    .toList().equals(List.of(ContainerEventType.CONTAINER_CREATED_EVENT,
                            ContainerEventType.CONTAINER_STARTED_EVENT, ContainerEventType.CONTAINER_STOPPED_EVENT,
                            ContainerEventType.CONTAINER_DELETED_EVENT)));
            assertThat(seen).filteredOn(e -> e.getContainerId().equals(id)).allSatisfy(e ->
                    assertThat(e.getPodSandboxStatus().getId()).isEqualTo(podId));
        } finally {
            listening.cancel(null);
            h.removePod(podId);
        }
    }

    /** The memory limit of a running container, read on the host from its init process's cgroup (v1 or v2). */
    private static String memoryLimit(String id) throws Exception {
        return memoryCgroupFile(id, "memory.limit_in_bytes", "memory.max");
    }

    /**
     * Asserts that a running container may not swap beyond its memory limit: memory+swap equals the limit
     * (v1), or no swap at all (v2). Skips the check where the kernel does not account swap.
     */
    private static void assertNoSwapBeyond(String id, long limit) throws Exception {
        if (Files.exists(Path.of("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"))) {
            assertThat(memoryCgroupFile(id, "memory.memsw.limit_in_bytes", "")).isEqualTo(String.valueOf(limit));
        } else if (Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"))) {
            assertThat(memoryCgroupFile(id, "", "memory.swap.max")).isEqualTo("0");
        }
    }

    private static String memoryCgroupFile(String id, String v1File, String v2File) throws Exception {
        String info = h.rt().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id).setVerbose(true)
                .build()).getInfoMap().get("info");
        Matcher m = Pattern.compile("\"pid\":(\\d+)").matcher(info);
        assertThat(m.find()).as(info).isTrue();
        for (String line : Files.readAllLines(Path.of("/proc", m.group(1), "cgroup"))) {
            String[] f = line.split(":", 3);
            if (Arrays.asList(f[1].split(",")).contains("memory")) {
                return Files.readString(Path.of("/sys/fs/cgroup/memory" + f[2], v1File)).trim();
            }
        }
        if (Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"))) {
            for (String line : Files.readAllLines(Path.of("/proc", m.group(1), "cgroup"))) {
                if (line.startsWith("0::")) {
                    return Files.readString(Path.of("/sys/fs/cgroup" + line.substring(3), v2File)).trim();
                }
            }
        }
        throw new AssertionError("no memory cgroup for container " + id);
    }
}
