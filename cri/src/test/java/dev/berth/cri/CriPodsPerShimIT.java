package dev.berth.cri;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cri.internal.proto.ContainerState;
import dev.berth.cri.internal.proto.PodSandboxConfig;
import dev.berth.cri.internal.proto.PodSandboxState;
import dev.berth.cri.internal.proto.PodSandboxStatusRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A server whose shims serve several pods each ({@link CriServer.Builder#podsPerShim}): real runc shims,
 * counted by process; a pod's processes are the children of the shim serving it.
 */
class CriPodsPerShimIT {
    private static final Duration AWAIT = Duration.ofSeconds(60);

    record RunningPod(String id, PodSandboxConfig config, String container) {
    }

    private static RunningPod sleepingPod(CriHarness h, String prefix) {
        PodSandboxConfig config = CriHarness.pod(prefix + "-" + UUID.randomUUID().toString().substring(0, 6)).build();
        String id = h.runPod(config);
        String c = h.createAndStart(id, config, CriHarness.container("sleep", "sleep", "3600").build());
        return new RunningPod(id, config, c);
    }

    /** The shim serving {@code pod}: the parent of its pause process, and of its container's. */
    private static long shimOf(CriHarness h, RunningPod pod) {
        long shim = CriHarness.parentOf(h.pausePid(pod.id));
        assertThat(CriHarness.parentOf(h.taskPid(pod.container))).as("the shim of %s's container", pod.id)
                .isEqualTo(shim);
        return shim;
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Where the runc shim of group {@code group} listens (derived from Berth's address, namespace and group). */
    private static Path groupSocket(CriHarness h, String group) throws Exception {
        String address = h.state.resolve("berth.sock").toString();
        byte[] hash = MessageDigest.getInstance("SHA-256")
                .digest((address + "/" + CriServer.NAMESPACE + "/" + group).getBytes(StandardCharsets.UTF_8));
        return Path.of("/run/containerd/s", HexFormat.of().formatHex(hash));
    }

    @Test
    void podsShareAShimUpToTheLimitTheNextStartsAnotherAndEachShimStopsWithItsLastPod() throws Exception {
        try (CriHarness h = new CriHarness(3)) {
            List<RunningPod> first = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                first.add(sleepingPod(h, "share"));
            }
            long shim = shimOf(h, first.get(0));
            for (RunningPod p : first) {
                assertThat(shimOf(h, p)).as("the shim of pod %s", p.id).isEqualTo(shim);
            }
            assertThat(h.shimPidsOfRoot()).as("shims of this root for three pods").containsExactly(shim);
            // named after the group's first pod, or the warm shim it took
            String firstGroup = CriHarness.groupOfShim(shim);
            assertThat(firstGroup).isIn("berth-pods-" + first.get(0).id, CriHarness.shimIdOf(shim));
            assertThat(groupSocket(h, firstGroup)).exists();

            RunningPod fourth = sleepingPod(h, "next");
            long second = shimOf(h, fourth);
            assertThat(second).as("the fourth pod's shim").isNotEqualTo(shim);
            assertThat(h.shimPidsOfRoot()).containsExactlyInAnyOrder(shim, second);

            // the group's first pod (the shim's namesake) goes first: the shim goes on serving the others
            h.removePod(first.get(0).id);
            h.removePod(first.get(1).id);
            assertThat(alive(shim)).as("the shim while a pod of it runs").isTrue();
            assertThat(h.status(first.get(2).container).getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);

            h.removePod(first.get(2).id);
            Awaitility.await().atMost(AWAIT).untilAsserted(() ->
                    assertThat(alive(shim)).as("the shim after its last pod's removal").isFalse());
            Path firstSocket = groupSocket(h, firstGroup);
            Awaitility.await().atMost(AWAIT).untilAsserted(() ->
                    assertThat(firstSocket).as("its socket").doesNotExist());
            assertThat(alive(second)).isTrue();

            // a pod started now joins the shim that has room, not a new one
            RunningPod fifth = sleepingPod(h, "joins");
            assertThat(shimOf(h, fifth)).isEqualTo(second);
            h.removePod(fourth.id);
            h.removePod(fifth.id);
            Awaitility.await().atMost(AWAIT).untilAsserted(() ->
                    assertThat(h.shimPidsOfRoot()).as("shims of this root after every pod's removal").isEmpty());
        }
    }

    @Test
    void aBurstOfPodsStartedTogetherSharesShimsTwoCreatesAtATime() throws Exception {
        try (CriHarness h = new CriHarness(8)) {
            var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            List<RunningPod> pods = new ArrayList<>();
            try {
                List<java.util.concurrent.Future<RunningPod>> started = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    started.add(pool.submit(() -> sleepingPod(h, "burst")));
                }
                for (var f : started) {
                    pods.add(f.get(120, java.util.concurrent.TimeUnit.SECONDS));
                }
            } finally {
                pool.shutdownNow();
            }
            java.util.Set<Long> shims = new java.util.HashSet<>();
            for (RunningPod p : pods) {
                assertThat(h.status(p.container).getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
                shims.add(shimOf(h, p));
            }
            // a new shim starts only when every shim has two creates running, so each has two pods or more
            assertThat(shims).as("shims for a burst of four pods").hasSizeBetween(1, 2);
            assertThat(h.shimPidsOfRoot()).containsExactlyInAnyOrderElementsOf(shims);
            for (RunningPod p : pods) {
                h.removePod(p.id);
            }
            Awaitility.await().atMost(AWAIT).untilAsserted(() ->
                    assertThat(h.shimPidsOfRoot()).as("shims of this root after every pod's removal").isEmpty());
        }
    }

    /** The lines of the host's firewall (filter and NAT) that name {@code id} (CNI rules carry the pod's id). */
    private static List<String> firewallRulesNaming(String id) throws Exception {
        Process p = new ProcessBuilder("iptables-save").redirectErrorStream(true).start();
        String rules = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return rules.lines().filter(l -> l.contains(id)).toList();
    }

    @Test
    void atTheDefaultPodsShareAShimAndOneThatDiesEndsAllItsPodsWhichAreReportedAndRemovedWithoutLeftovers()
            throws Exception {
        try (CriHarness h = new CriHarness(0)) { // the server's default: several pods per shim
            RunningPod a = sleepingPod(h, "doomed");
            RunningPod b = sleepingPod(h, "doomed");
            long shim = shimOf(h, a);
            assertThat(shimOf(h, b)).as("the default puts the second pod in the first one's shim").isEqualTo(shim);
            assertThat(h.shimPidsOfRoot()).containsExactly(shim);
            List<Long> workloads = List.of(h.taskPid(a.container), h.taskPid(b.container));
            String deadGroup = CriHarness.groupOfShim(shim);

            ProcessHandle.of(shim).orElseThrow().destroyForcibly();

            for (RunningPod p : List.of(a, b)) {
                var exited = h.awaitExit(p.container, AWAIT);
                assertThat(exited.getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
                assertThat(exited.getExitCode()).as("%s's exit code", p.container).isNotZero();
                Awaitility.await().atMost(AWAIT).untilAsserted(() -> assertThat(h.rt().podSandboxStatus(
                        PodSandboxStatusRequest.newBuilder().setPodSandboxId(p.id).build()).getStatus().getState())
                        .as("pod %s", p.id).isEqualTo(PodSandboxState.SANDBOX_NOTREADY));
            }
            for (long pid : workloads) {
                Awaitility.await().atMost(AWAIT).untilAsserted(() ->
                        assertThat(alive(pid)).as("container process %d", pid).isFalse());
            }

            // the dead shim's group takes no new pod although it had room by count once its pods stop
            RunningPod c = sleepingPod(h, "after");
            long fresh = shimOf(h, c);
            assertThat(fresh).isNotEqualTo(shim);
            assertThat(alive(fresh)).isTrue();
            assertThat(CriHarness.groupOfShim(fresh)).isNotEqualTo(deadGroup);

            h.removePod(a.id);
            h.removePod(b.id);
            Path deadSocket = groupSocket(h, deadGroup);
            Awaitility.await().atMost(AWAIT).untilAsserted(() ->
                    assertThat(deadSocket).as("the dead shim's socket").doesNotExist());
            for (RunningPod p : List.of(a, b)) {
                assertThat(firewallRulesNaming(p.id)).as("firewall rules of pod %s", p.id).isEmpty();
                // record, snapshot and files go in the background once the pod is gone for the kubelet
                Awaitility.await().atMost(AWAIT).untilAsserted(() -> {
                    assertThat(h.berth.namespace(CriServer.NAMESPACE).containers().list("id==" + p.id)).isEmpty();
                    assertThat(h.berth.namespace(CriServer.NAMESPACE).containers().list("id==" + p.container))
                            .isEmpty();
                    assertThat(dev.berth.sys.MountInfo.mountPointsUnder(h.root)).as("mounts under the root")
                            .noneMatch(m -> m.toString().contains(p.id) || m.toString().contains(p.container));
                    assertThat(h.state.resolve("cri/sandboxes").resolve(p.id)).doesNotExist();
                });
            }
            assertThat(h.status(c.container).getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
            h.removePod(c.id);
            assertThat(firewallRulesNaming(c.id)).as("firewall rules of pod %s", c.id).isEmpty();
            try (var s = java.nio.file.Files.list(h.state.resolve("cri/netns"))) {
                assertThat(s.toList()).as("network namespaces left").isEmpty();
            }
            Awaitility.await().atMost(AWAIT).untilAsserted(() ->
                    assertThat(h.shimPidsOfRoot()).as("shims of this root after every pod's removal").isEmpty());
        }
    }

    @Test
    void aRestartedServerKeepsFillingTheShimsAnEarlierOneStarted() throws Exception {
        try (CriHarness h = new CriHarness(2)) {
            RunningPod a = sleepingPod(h, "before");
            long shim = shimOf(h, a);
            h.closeServer();
            h.open();
            assertThat(h.status(a.container).getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
            RunningPod b = sleepingPod(h, "after");
            assertThat(shimOf(h, b)).as("the recovered shim, which had room").isEqualTo(shim);
            RunningPod c = sleepingPod(h, "full");
            assertThat(shimOf(h, c)).isNotEqualTo(shim);
            for (RunningPod p : List.of(a, b, c)) {
                h.removePod(p.id);
            }
            Awaitility.await().atMost(AWAIT).untilAsserted(() ->
                    assertThat(h.shimPidsOfRoot()).as("shims of this root after every pod's removal").isEmpty());
        }
    }
}
