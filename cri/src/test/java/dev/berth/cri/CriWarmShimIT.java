package dev.berth.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.cri.internal.proto.ContainerState;
import dev.berth.cri.internal.proto.PodSandboxConfig;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The warm shim (PodShims.WarmShims): the runtime keeps one spare runc shim running, and a pod that starts a
 * shim group takes it (the group is named after it), so no pod waits for a shim launch. Real runc shims, CNI
 * plugins and server restarts; every shim is found by its process.
 */
class CriWarmShimIT {
    private static final Duration AWAIT = Duration.ofSeconds(60);

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** The one spare of the server, once it is running. */
    private static long awaitSpare(CriHarness h) {
        Awaitility.await().atMost(AWAIT).untilAsserted(() ->
                assertThat(h.spareShimPids()).as("the server's spare shim").hasSize(1));
        return h.spareShimPids().get(0);
    }

    private static Path home(CriHarness h, long shim) {
        return h.state.resolve("shims").resolve(CriServer.NAMESPACE).resolve(CriHarness.shimIdOf(shim));
    }

    /** Where the runc shim of group {@code group} listens (derived from Berth's address, namespace and group). */
    private static Path groupSocket(CriHarness h, String group) throws Exception {
        String address = h.state.resolve("berth.sock").toString();
        byte[] hash = MessageDigest.getInstance("SHA-256")
                .digest((address + "/" + CriServer.NAMESPACE + "/" + group).getBytes(StandardCharsets.UTF_8));
        return Path.of("/run/containerd/s", HexFormat.of().formatHex(hash));
    }

    private record Pod(String id, String container) {
    }

    private static Pod sleepingPod(CriHarness h, String prefix) {
        PodSandboxConfig config = CriHarness.pod(prefix + "-" + UUID.randomUUID().toString().substring(0, 6)).build();
        String id = h.runPod(config);
        return new Pod(id, h.createAndStart(id, config, CriHarness.container("sleep", "sleep", "3600").build()));
    }

    private static long shimOf(CriHarness h, Pod pod) {
        long shim = CriHarness.parentOf(h.pausePid(pod.id));
        assertThat(CriHarness.parentOf(h.taskPid(pod.container))).as("the shim of %s's container", pod.id)
                .isEqualTo(shim);
        return shim;
    }

    @Test
    void aPodTakesTheWarmShimTheNextIsLaunchedAndTheTakenOneStopsWithThePodLeavingNothing() throws Exception {
        try (CriHarness h = new CriHarness(0)) {
            long warm = awaitSpare(h);
            String group = CriHarness.shimIdOf(warm);
            Path home = home(h, warm);

            Pod pod = sleepingPod(h, "warm");
            assertThat(shimOf(h, pod)).as("the pod's shim: the warm one").isEqualTo(warm);
            assertThat(CriHarness.groupOfShim(warm)).isEqualTo(group);
            assertThat(groupSocket(h, group)).as("the group's socket").exists();
            assertThat(home.resolve("berth-group-shim")).as("its home, marked as handed over").exists();
            Awaitility.await().atMost(AWAIT).untilAsserted(() ->
                    assertThat(h.spareShimPids()).as("the next spare").hasSize(1).doesNotContain(warm));
            long next = h.spareShimPids().get(0);
            assertThat(h.shimPidsOfRoot()).as("shims serving pods").containsExactly(warm);

            h.removePod(pod.id);
            Awaitility.await().atMost(AWAIT).untilAsserted(() ->
                    assertThat(alive(warm)).as("the taken shim after its pod's removal").isFalse());
            Awaitility.await().atMost(AWAIT).untilAsserted(() -> {
                assertThat(home).as("its home").doesNotExist();
                assertThat(groupSocket(h, group)).as("its socket").doesNotExist();
            });
            assertThat(h.shimPidsOfRoot()).as("shims serving pods").isEmpty();
            assertThat(alive(next)).as("the next spare, still ready").isTrue();

            // the next pod takes that one
            Pod second = sleepingPod(h, "again");
            assertThat(shimOf(h, second)).isEqualTo(next);
            h.removePod(second.id);
            Awaitility.await().atMost(AWAIT).untilAsserted(() -> assertThat(alive(next)).isFalse());

            // the server's close stops its spare: no shim of this root is left
            h.closeServer();
            Awaitility.await().atMost(AWAIT).untilAsserted(() ->
                    assertThat(h.allShimPidsOfRoot()).as("shims of this root after the server's close").isEmpty());
            try (var homes = Files.list(h.state.resolve("shims").resolve(CriServer.NAMESPACE))) {
                assertThat(homes.toList()).as("shim homes left").isEmpty();
            }
            h.open();
        }
    }

    @Test
    void aPodThatFailsAfterTakingTheWarmShimLeavesNoShimBehind() throws Exception {
        try (CriHarness h = new CriHarness(0)) {
            long warm = awaitSpare(h);
            Path home = home(h, warm);
            Path conflist = h.confDir.resolve("10-pods.conflist");
            Path aside = h.confDir.getParent().resolve(h.confDir.getFileName() + ".aside");
            Files.move(conflist, aside);
            try {
                // no network configuration: fails after the pod took its group's shim
                assertThatThrownBy(() -> h.runPod(CriHarness.pod("fails-" + UUID.randomUUID().toString()
                        .substring(0, 6)).build())).isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));
            } finally {
                Files.move(aside, conflist);
            }
            Awaitility.await().atMost(AWAIT).untilAsserted(() -> {
                assertThat(alive(warm)).as("the shim the failed pod took").isFalse();
                assertThat(home).as("its home").doesNotExist();
            });
            assertThat(h.shimPidsOfRoot()).as("shims serving pods").isEmpty();
            Awaitility.await().atMost(AWAIT).untilAsserted(() ->
                    assertThat(h.spareShimPids()).as("the next spare").hasSize(1));
        }
    }

    @Test
    void aRestartedServerLeavesATakenShimToItsPodAndTheShimStopsWithIt() throws Exception {
        try (CriHarness h = new CriHarness(0)) {
            long warm = awaitSpare(h);
            Path home = home(h, warm);
            Pod pod = sleepingPod(h, "restart");
            assertThat(shimOf(h, pod)).isEqualTo(warm);

            h.closeServer();
            assertThat(alive(warm)).as("the pod's shim outlives the server").isTrue();
            h.open();

            assertThat(h.status(pod.container).getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
            assertThat(shimOf(h, pod)).isEqualTo(warm);
            assertThat(home).as("the taken shim's home, left to its pod's tasks").doesNotExist();
            // the recovered group has room: a pod started now joins the taken shim
            Pod other = sleepingPod(h, "other");
            assertThat(shimOf(h, other)).isEqualTo(warm);

            h.removePod(pod.id);
            assertThat(alive(warm)).as("the shim while a pod of it runs").isTrue();
            assertThat(h.status(other.container).getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
            h.removePod(other.id);
            Awaitility.await().atMost(AWAIT).untilAsserted(() -> {
                assertThat(alive(warm)).as("the taken shim after its pod's removal").isFalse();
                assertThat(h.shimPidsOfRoot()).as("shims serving pods").isEmpty();
            });
        }
    }
}
