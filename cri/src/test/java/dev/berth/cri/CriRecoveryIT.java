package dev.berth.cri;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cri.internal.proto.ContainerState;
import dev.berth.cri.internal.proto.ContainerStatusRequest;
import dev.berth.cri.internal.proto.ExecSyncRequest;
import dev.berth.cri.internal.proto.LinuxContainerResources;
import dev.berth.cri.internal.proto.Mount;
import dev.berth.cri.internal.proto.PodSandboxConfig;
import dev.berth.cri.internal.proto.PodSandboxState;
import dev.berth.cri.internal.proto.PodSandboxStatusRequest;
import dev.berth.cri.internal.proto.RunPodSandboxRequest;
import dev.berth.cri.internal.proto.StopContainerRequest;
import dev.berth.cri.internal.proto.UpdateContainerResourcesRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** A new server over the same root takes over the pods and containers of the one before it. */
class CriRecoveryIT {

    private static long pid(CriHarness h, String id) {
        String info = h.rt().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id).setVerbose(true)
                .build()).getInfoMap().get("info");
        Matcher m = Pattern.compile("\"pid\":(\\d+)").matcher(info);
        assertThat(m.find()).as(info).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void aRestartedServerRecoversThePodItsContainersAndTheExitsItMissed() throws Exception {
        try (CriHarness h = new CriHarness()) {
            PodSandboxConfig pod = h.podWithLogs("survivor").build();
            String podId = h.runPod(pod);
            String ip = h.rt().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(podId).build())
                    .getStatus().getNetwork().getIp();
            String steady = h.createAndStart(podId, pod, CriHarness.container("steady", "sh", "-c",
                    "i=0; while true; do echo beat $i; i=$((i+1)); sleep 0.2; done").setLogPath("steady.log").build());
            Path signal = Files.createDirectories(h.logDir.resolve("signal"));
            String brief = h.createAndStart(podId, pod, CriHarness.container("brief", "sh", "-c",
                    "while [ ! -f /signal/go ]; do sleep 0.1; done; exit 5")
                    .addMounts(Mount.newBuilder().setHostPath(signal.toString()).setContainerPath("/signal")).build());
            long briefPid = pid(h, brief);
            Path log = Path.of(h.status(steady).getLogPath());
            h.rt().updateContainerResources(UpdateContainerResourcesRequest.newBuilder().setContainerId(steady)
                    .setLinux(LinuxContainerResources.newBuilder().setCpuShares(384)
                            .setMemoryLimitInBytes(80L << 20)).build());

            h.closeServer();
            // the brief container exits while no server runs
            Files.writeString(signal.resolve("go"), "");
            Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> ProcessHandle.of(briefPid).map(p -> !p.isAlive()).orElse(true));
            h.open();

            assertThat(h.rt().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(podId).build())
                    .getStatus()).satisfies(s -> {
                        assertThat(s.getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
                        assertThat(s.getNetwork().getIp()).isEqualTo(ip);
                    });
            assertThat(h.status(steady).getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
            assertThat(h.status(steady).getResources().getLinux()).as("the resources as last updated")
                    .satisfies(r -> {
                        assertThat(r.getCpuShares()).isEqualTo(384);
                        assertThat(r.getMemoryLimitInBytes()).isEqualTo(80L << 20);
                    });
            // the pod's one shim (its sandbox's) outlived the server and still serves the running container
            long podShim = CriHarness.parentOf(h.pausePid(podId));
            assertThat(h.shimPidsOfRoot()).as("the sandbox's shim").contains(podShim);
            assertThat(h.shimsStartedFor(steady)).isEmpty();
            assertThat(CriHarness.parentOf(pid(h, steady))).isEqualTo(podShim);
            var exited = h.awaitExit(brief, Duration.ofSeconds(30));
            assertThat(exited.getExitCode()).isEqualTo(5);
            assertThat(exited.getReason()).isEqualTo("Error");
            assertThat(h.rt().execSync(ExecSyncRequest.newBuilder().setContainerId(steady)
                    .addAllCmd(List.of("true")).setTimeout(10).build()).getExitCode()).isZero();
            // the log goes on after the restart
            long size = Files.size(log);
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> Files.size(log) > size);
            // and has every line written while no server ran (held in the FIFO until the server came back)
            List<Integer> beats = Pattern.compile("stdout F beat (\\d+)").matcher(Files.readString(log)).results()
                    .map(m -> Integer.parseInt(m.group(1))).toList();
            assertThat(beats).as("beats in the log").isEqualTo(java.util.stream.IntStream.range(0, beats.size())
                    .boxed().toList());

            try {
                h.rt().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(pod).build());
                throw new AssertionError("the name must stay reserved across the restart");
            } catch (StatusRuntimeException e) {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
            }
            h.rt().stopContainer(StopContainerRequest.newBuilder().setContainerId(steady).setTimeout(5).build());
            assertThat(h.status(steady).getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
            h.removePod(podId);
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(h.shimsOfRoot()).as("shims of this root after the pod's removal").isZero());
        }
    }

    @Test
    void aContainerWhoseOutputAnotherProcessReadsIsRecoveredAndItsLogGoesOnOnceThatProcessLetsGo() throws Exception {
        try (CriHarness h = new CriHarness()) {
            PodSandboxConfig pod = h.podWithLogs("shared").build();
            String podId = h.runPod(pod);
            String id = h.createAndStart(podId, pod, CriHarness.container("talker", "sh", "-c",
                    "while true; do echo hi; sleep 0.2; done").setLogPath("talker.log").build());
            h.closeServer();
            // another Berth on the same root (a `berth` command, say) finds the task first and reads its output
            try (dev.berth.Berth other = dev.berth.Berth.builder().root(h.root).stateDir(h.state)
                    .gcPolicy(dev.berth.GcPolicy.manual()).build()) {
                assertThat(other.namespace("k8s.io").containers().get(id).task()).isPresent();
                h.open();
                assertThat(h.status(id).getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
            }
            // once it has let go, the server reads the output: the log goes on
            Path log = Path.of(h.status(id).getLogPath());
            long size = Files.size(log);
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> Files.size(log) > size);

            h.rt().stopContainer(StopContainerRequest.newBuilder().setContainerId(id).setTimeout(0).build());
            assertThat(h.awaitExit(id, Duration.ofSeconds(30)).getExitCode()).isEqualTo(137);
            h.removePod(podId);
        }
    }
}
