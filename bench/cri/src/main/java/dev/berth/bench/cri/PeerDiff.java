package dev.berth.bench.cri;

import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.TextFormat;
import dev.berth.cri.internal.proto.Capability;
import dev.berth.cri.internal.proto.ContainerConfig;
import dev.berth.cri.internal.proto.ContainerFilter;
import dev.berth.cri.internal.proto.ContainerMetadata;
import dev.berth.cri.internal.proto.ContainerState;
import dev.berth.cri.internal.proto.ContainerStateValue;
import dev.berth.cri.internal.proto.ContainerStatsRequest;
import dev.berth.cri.internal.proto.ContainerStatus;
import dev.berth.cri.internal.proto.ContainerStatusRequest;
import dev.berth.cri.internal.proto.CreateContainerRequest;
import dev.berth.cri.internal.proto.DNSConfig;
import dev.berth.cri.internal.proto.ExecSyncRequest;
import dev.berth.cri.internal.proto.ImageServiceGrpc;
import dev.berth.cri.internal.proto.ImageSpec;
import dev.berth.cri.internal.proto.ImageStatusRequest;
import dev.berth.cri.internal.proto.Int64Value;
import dev.berth.cri.internal.proto.KeyValue;
import dev.berth.cri.internal.proto.ImageFsInfoRequest;
import dev.berth.cri.internal.proto.LinuxContainerConfig;
import dev.berth.cri.internal.proto.LinuxContainerResources;
import dev.berth.cri.internal.proto.LinuxContainerSecurityContext;
import dev.berth.cri.internal.proto.LinuxPodSandboxConfig;
import dev.berth.cri.internal.proto.LinuxSandboxSecurityContext;
import dev.berth.cri.internal.proto.ListContainersRequest;
import dev.berth.cri.internal.proto.ListImagesRequest;
import dev.berth.cri.internal.proto.ListPodSandboxRequest;
import dev.berth.cri.internal.proto.ListPodSandboxStatsRequest;
import dev.berth.cri.internal.proto.Mount;
import dev.berth.cri.internal.proto.NamespaceMode;
import dev.berth.cri.internal.proto.NamespaceOption;
import dev.berth.cri.internal.proto.PodSandboxConfig;
import dev.berth.cri.internal.proto.PodSandboxFilter;
import dev.berth.cri.internal.proto.PodSandboxStateValue;
import dev.berth.cri.internal.proto.PodSandboxState;
import dev.berth.cri.internal.proto.PodSandboxStatsRequest;
import dev.berth.cri.internal.proto.PodSandboxMetadata;
import dev.berth.cri.internal.proto.PodSandboxStatusRequest;
import dev.berth.cri.internal.proto.RemoveContainerRequest;
import dev.berth.cri.internal.proto.ReopenContainerLogRequest;
import dev.berth.cri.internal.proto.RemovePodSandboxRequest;
import dev.berth.cri.internal.proto.RunPodSandboxRequest;
import dev.berth.cri.internal.proto.RuntimeServiceGrpc;
import dev.berth.cri.internal.proto.StartContainerRequest;
import dev.berth.cri.internal.proto.StatusRequest;
import dev.berth.cri.internal.proto.StopContainerRequest;
import dev.berth.cri.internal.proto.StopPodSandboxRequest;
import dev.berth.cri.internal.proto.UpdateContainerResourcesRequest;
import dev.berth.cri.internal.proto.VersionRequest;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * One fixed script of CRI calls run against each side: pods, containers in every state, exec, stop, stats,
 * images, and the calls kubelet makes on objects that are gone or in the wrong state. Each answer (or
 * error code and message) is normalized (ids, times, addresses, measured figures) and kept per step; the
 * steps whose answers differ between the first two sides are listed, and each side's transcript is written
 * to {@code <logDir>/peer-diff-<side>.txt} for {@code diff}. Differences are for a person to judge (error
 * wording differs by design); this is how Berth's CRI is checked against containerd's where no test of
 * Berth's own would think to look. Run by {@code -Dbench.cri.parts=peerdiff}.
 */
final class PeerDiff {
    private final CriBench.Side side;
    private final Path dir;
    private final RuntimeServiceGrpc.RuntimeServiceBlockingStub rt;
    private final ImageServiceGrpc.ImageServiceBlockingStub images;
    private final Map<String, String> names = new LinkedHashMap<>();
    private final Map<String, String> steps = new LinkedHashMap<>();

    private PeerDiff(CriBench.Side side, Path dir) {
        this.side = side;
        this.dir = dir;
        this.rt = side.rt();
        this.images = ImageServiceGrpc.newBlockingStub(side.channel()).withDeadlineAfter(3, TimeUnit.MINUTES);
    }

    static void run(List<CriBench.Side> sides, Path logDir) throws IOException {
        List<Map<String, String>> transcripts = new ArrayList<>();
        for (CriBench.Side s : sides.subList(0, Math.min(2, sides.size()))) {
            Path dir = Files.createDirectories(logDir.resolve("peer-diff-" + s.name()));
            PeerDiff d = new PeerDiff(s, dir);
            d.script();
            d.securityAndLifecycle();
            StringBuilder text = new StringBuilder();
            d.steps.forEach((step, answer) -> text.append("=== ").append(step).append('\n').append(answer).append('\n'));
            Files.writeString(logDir.resolve("peer-diff-" + s.name() + ".txt"), text);
            transcripts.add(d.steps);
        }
        if (transcripts.size() == 2) {
            List<String> differ = transcripts.get(0).keySet().stream()
                    .filter(k -> !transcripts.get(0).get(k).equals(transcripts.get(1).get(k))).toList();
            System.err.printf("bench: peer diff: %d of %d steps answer differently: %s%n", differ.size(),
                    transcripts.get(0).size(), differ);
        }
    }

    private String normalize(String s) {
        for (var e : names.entrySet()) {
            s = s.replace(e.getKey(), e.getValue());
        }
        s = s.replaceAll("[0-9a-f]{64}", "<hex64>");
        // times and measured figures vary from run to run; only whether they are set compares
        s = s.replaceAll("(?m)^(\\s*(created_at|started_at|finished_at|timestamp|value): )[1-9][0-9]*$", "$1<n>");
        s = s.replaceAll("\\b\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\b", "<ipv4>");
        return s.replace(dir.toString(), "<logdir>");
    }

    private void step(String name, Supplier<Object> call) {
        String out;
        try {
            Object r = call.get();
            out = r instanceof MessageOrBuilder m ? TextFormat.printer().printToString(m) : String.valueOf(r);
        } catch (StatusRuntimeException e) {
            out = "error " + e.getStatus().getCode() + ": " + e.getStatus().getDescription();
        }
        steps.put(name, normalize(out));
    }

    private ContainerConfig.Builder container(String name, String... command) {
        return ContainerConfig.newBuilder().setMetadata(ContainerMetadata.newBuilder().setName(name).setAttempt(1))
                .setImage(ImageSpec.newBuilder().setImage(CriBench.BUSYBOX)).addAllCommand(List.of(command))
                .setLogPath(name + ".log").putLabels("c", name);
    }

    private String create(String pod, PodSandboxConfig config, ContainerConfig c, String alias) {
        String id = rt.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod).setConfig(c)
                .setSandboxConfig(config).build()).getContainerId();
        names.put(id, alias);
        return id;
    }

    private ContainerStatus status(String id) {
        return rt.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id).build()).getStatus();
    }

    private ContainerStatus awaitExit(String id) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (status(id).getState() != ContainerState.CONTAINER_EXITED && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        return status(id);
    }

    private String exec(String id, int timeout, String... cmd) {
        var r = rt.execSync(ExecSyncRequest.newBuilder().setContainerId(id).addAllCmd(List.of(cmd))
                .setTimeout(timeout).build());
        return "exit " + r.getExitCode() + "\nstdout " + r.getStdout().toStringUtf8() + "\nstderr "
                + r.getStderr().toStringUtf8();
    }

    private String log(String name) {
        try {
            return Files.readString(dir.resolve(name + ".log")).replaceAll("(?m)^\\S+ ", "<time> ");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void script() {
        step("Status", () -> rt.status(StatusRequest.getDefaultInstance()).getStatus());
        step("ListImages busybox", () -> images.listImages(ListImagesRequest.getDefaultInstance()).getImagesList()
                .stream().filter(i -> i.getRepoTagsList().contains(CriBench.BUSYBOX))
                .map(i -> i.toBuilder().clearSpec().build()).toList());
        step("ImageStatus short name", () -> images.imageStatus(ImageStatusRequest.newBuilder()
                .setImage(ImageSpec.newBuilder().setImage("busybox")).build()).getImage().getRepoTagsList());
        step("ImageStatus unknown", () -> images.imageStatus(ImageStatusRequest.newBuilder()
                .setImage(ImageSpec.newBuilder().setImage("nosuch:1")).build()));

        PodSandboxConfig config = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName("peer").setNamespace("diff").setUid("uid-peer")
                        .setAttempt(1))
                .setHostname("peer-0").setLogDirectory(dir.toString()).putLabels("app", "peer")
                .setDnsConfig(DNSConfig.newBuilder().addServers("10.96.0.10").addSearches("diff.svc").addOptions("ndots:5"))
                .setLinux(LinuxPodSandboxConfig.newBuilder().setSecurityContext(LinuxSandboxSecurityContext.newBuilder()
                        .setNamespaceOptions(NamespaceOption.newBuilder().setPid(NamespaceMode.CONTAINER))))
                .build();
        String pod = rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config).build()).getPodSandboxId();
        names.put(pod, "<pod>");
        try {
            step("RunPodSandbox same name", () -> rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config).build()));
            step("PodSandboxStatus", () -> rt.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod)
                    .build()).getStatus());

            String sleeper = create(pod, config, container("sleeper", "sleep", "600").build(), "<sleeper>");
            step("ContainerStatus created", () -> status(sleeper));
            rt.startContainer(StartContainerRequest.newBuilder().setContainerId(sleeper).build());
            step("ContainerStatus running", () -> status(sleeper));
            step("ExecSync output and exit code", () -> exec(sleeper, 10, "sh", "-c", "echo out; echo err >&2; exit 3"));
            step("ExecSync environment, user, limits, files", () -> exec(sleeper, 10, "sh", "-c",
                    "env | sort; id; ulimit -n; cat /etc/hostname /etc/resolv.conf; "
                            + "grep -E 'Cap|NoNewPrivs|Seccomp|Groups' /proc/self/status; cat /proc/1/cmdline; echo; "
                            + "grep -E ' /(proc|sys|dev|etc)' /proc/self/mountinfo | cut -d' ' -f5,6 | sort"));
            step("ExecSync timeout", () -> exec(sleeper, 1, "sleep", "5"));
            step("ContainerStats fields", () -> rt.containerStats(ContainerStatsRequest.newBuilder()
                    .setContainerId(sleeper).build()).getStats().getAllFields().keySet().stream()
                    .map(f -> f.getName()).toList());
            step("UpdateContainerResources running", () -> rt.updateContainerResources(UpdateContainerResourcesRequest
                    .newBuilder().setContainerId(sleeper).setLinux(LinuxContainerResources.newBuilder().setCpuShares(512))
                    .build()));
            step("StopContainer", () -> rt.stopContainer(StopContainerRequest.newBuilder().setContainerId(sleeper)
                    .setTimeout(2).build()));
            step("ContainerStatus stopped", () -> status(sleeper).toBuilder().clearImageId().clearStopSignal().build());
            step("ExecSync on an exited container", () -> exec(sleeper, 5, "true"));

            String done = create(pod, config, container("done", "sh", "-c", "echo bye; exit 0").build(), "<done>");
            rt.startContainer(StartContainerRequest.newBuilder().setContainerId(done).build());
            step("ContainerStatus completed", () -> awaitExit(done).toBuilder().clearImageId().clearStopSignal().build());
            step("log of a completed container", () -> log("done"));
            String tty = create(pod, config, container("tty", "sh", "-c", "printf 'a\\nb'; sleep 0.2; echo c")
                    .setTty(true).build(), "<tty>");
            rt.startContainer(StartContainerRequest.newBuilder().setContainerId(tty).build());
            awaitExit(tty);
            step("log of a tty container", () -> log("tty"));
            String merged = create(pod, config, ContainerConfig.newBuilder()
                    .setMetadata(ContainerMetadata.newBuilder().setName("merged")).setLogPath("merged.log")
                    .setImage(ImageSpec.newBuilder().setImage(CriBench.BUSYBOX))
                    .addAllArgs(List.of("sh", "-c", "echo $0 $PATH; pwd")).setWorkingDir("/made/by/runtime")
                    .addEnvs(KeyValue.newBuilder().setKey("PATH").setValue("/bin")).build(), "<merged>");
            rt.startContainer(StartContainerRequest.newBuilder().setContainerId(merged).build());
            awaitExit(merged);
            step("args without command, working dir and env", () -> log("merged"));
            String missing = create(pod, config, container("missing", "/no/such/binary").build(), "<missing>");
            step("StartContainer of a missing binary", () -> rt.startContainer(StartContainerRequest.newBuilder()
                    .setContainerId(missing).build()));
            step("ContainerStatus after a failed start", () -> {
                ContainerStatus s = status(missing);
                return s.getState() + " " + s.getExitCode() + " " + s.getReason();
            });
            step("CreateContainer of an unknown image", () -> create(pod, config, container("noimage", "true")
                    .setImage(ImageSpec.newBuilder().setImage("nosuch:9")).build(), "<noimage>"));
            step("ListContainers of the pod", () -> rt.listContainers(ListContainersRequest.newBuilder()
                    .setFilter(ContainerFilter.newBuilder().setPodSandboxId(pod)).build()).getContainersList().stream()
                    .map(c -> c.getMetadata().getName() + " " + c.getState()).sorted().toList());
            step("RemoveContainer", () -> rt.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(done).build()));
            step("RemoveContainer again", () -> rt.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(done)
                    .build()));
            step("ContainerStatus removed", () -> status(done));
        } finally {
            rt.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
            step("PodSandboxStatus stopped", () -> rt.podSandboxStatus(PodSandboxStatusRequest.newBuilder()
                    .setPodSandboxId(pod).build()).getStatus().getState());
            rt.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        }
        step("RemovePodSandbox again", () -> rt.removePodSandbox(RemovePodSandboxRequest.newBuilder()
                .setPodSandboxId(pod).build()));
        step("PodSandboxStatus removed", () -> rt.podSandboxStatus(PodSandboxStatusRequest.newBuilder()
                .setPodSandboxId(pod).build()));
        System.err.printf("bench: peer diff: %s done, %d steps%n", side.name(), steps.size());
    }

    /** Security contexts, sysctls, mounts, OOM, stop signals, filters, verbose status, and removal of live objects. */
    private void securityAndLifecycle() {
        step("Version", () -> rt.version(VersionRequest.getDefaultInstance()).toBuilder().clearRuntimeName()
                .clearRuntimeVersion().build());
        step("ImageFsInfo fields", () -> images.imageFsInfo(ImageFsInfoRequest.getDefaultInstance())
                .getImageFilesystemsList().stream().map(f -> new TreeSet<>(f.getAllFields().keySet().stream()
                        .map(x -> x.getName()).toList())).toList());
        Path hostDir = dir.resolve("made-by-runtime");
        PodSandboxConfig config = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName("peer2").setNamespace("diff").setUid("uid-peer2")
                        .setAttempt(0))
                .setLogDirectory(dir.toString()).putLabels("app", "peer2").putAnnotations("a", "b")
                .setLinux(LinuxPodSandboxConfig.newBuilder().putSysctls("net.ipv4.ip_unprivileged_port_start", "0")
                        .putSysctls("kernel.shm_rmid_forced", "1")
                        .setSecurityContext(LinuxSandboxSecurityContext.newBuilder()
                                .setNamespaceOptions(NamespaceOption.newBuilder().setPid(NamespaceMode.POD))))
                .build();
        String pod = rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config).build()).getPodSandboxId();
        names.put(pod, "<pod2>");
        try {
            step("PodSandboxStatus verbose info keys", () -> new TreeSet<>(rt.podSandboxStatus(PodSandboxStatusRequest
                    .newBuilder().setPodSandboxId(pod).setVerbose(true).build()).getInfoMap().keySet()));
            String user = create(pod, config, container("user", "sleep", "600").setLinux(LinuxContainerConfig.newBuilder()
                    .setSecurityContext(LinuxContainerSecurityContext.newBuilder()
                            .setRunAsUser(Int64Value.newBuilder().setValue(1234)).setRunAsGroup(Int64Value.newBuilder().setValue(2345))
                            .addSupplementalGroups(3456).setReadonlyRootfs(true)
                            .setCapabilities(Capability.newBuilder().addDropCapabilities("ALL")
                                    .addAddCapabilities("NET_BIND_SERVICE"))))
                    .addMounts(Mount.newBuilder().setHostPath(hostDir.toString()).setContainerPath("/host"))
                    .build(), "<user>");
            rt.startContainer(StartContainerRequest.newBuilder().setContainerId(user).build());
            step("a missing host path of a mount", () -> Files.isDirectory(hostDir));
            step("ExecSync as user and group, sysctls, shared pid", () -> exec(user, 10, "sh", "-c",
                    "id; grep -E 'Cap|NoNewPrivs' /proc/self/status; cat /proc/sys/net/ipv4/ip_unprivileged_port_start"
                            + " /proc/sys/kernel/shm_rmid_forced; cat /proc/1/cmdline | tr '\\0' ' '; echo;"
                            + " touch /x 2>&1; touch /host/x 2>&1; ls -ld /host | cut -c1-10"));
            step("ExecSync of a missing binary", () -> exec(user, 10, "/no/such"));
            step("ContainerStatus verbose info keys", () -> new TreeSet<>(rt.containerStatus(ContainerStatusRequest
                    .newBuilder().setContainerId(user).setVerbose(true).build()).getInfoMap().keySet()));
            step("PodSandboxStats fields", () -> rt.podSandboxStats(PodSandboxStatsRequest.newBuilder()
                    .setPodSandboxId(pod).build()).getStats().getLinux().getAllFields().keySet().stream()
                    .map(f -> f.getName()).toList());
            step("ListPodSandboxStats by label", () -> rt.listPodSandboxStats(ListPodSandboxStatsRequest.newBuilder()
                    .setFilter(dev.berth.cri.internal.proto.PodSandboxStatsFilter.newBuilder()
                            .putLabelSelector("app", "peer2")).build()).getStatsCount());
            step("ReopenContainerLog running", () -> rt.reopenContainerLog(ReopenContainerLogRequest.newBuilder()
                    .setContainerId(user).build()));
            step("CreateContainer same name", () -> create(pod, config, container("user", "true").build(), "<dup>"));

            String stubborn = create(pod, config, container("stubborn", "sh", "-c",
                    "trap '' TERM; echo ready; while :; do sleep 1; done").build(), "<stubborn>");
            rt.startContainer(StartContainerRequest.newBuilder().setContainerId(stubborn).build());
            awaitLog("stubborn", "ready");
            step("StopContainer past its grace period", () -> rt.stopContainer(StopContainerRequest.newBuilder()
                    .setContainerId(stubborn).setTimeout(1).build()));
            step("ContainerStatus killed after the grace period", () -> {
                ContainerStatus st = status(stubborn);
                return st.getState() + " " + st.getExitCode() + " " + st.getReason() + " " + st.getMessage();
            });
            String graceful = create(pod, config, container("graceful", "sh", "-c",
                    "trap 'echo term; exit 7' TERM; echo ready; while :; do sleep 0.1; done").build(), "<graceful>");
            rt.startContainer(StartContainerRequest.newBuilder().setContainerId(graceful).build());
            awaitLog("graceful", "ready");
            rt.stopContainer(StopContainerRequest.newBuilder().setContainerId(graceful).setTimeout(10).build());
            step("ContainerStatus after SIGTERM handled", () -> {
                ContainerStatus st = status(graceful);
                return st.getState() + " " + st.getExitCode() + " " + st.getReason();
            });
            step("ReopenContainerLog exited", () -> rt.reopenContainerLog(ReopenContainerLogRequest.newBuilder()
                    .setContainerId(graceful).build()));

            String hog = create(pod, config, container("hog", "sh", "-c", "x=a; while :; do x=$x$x; done")
                    .setLinux(LinuxContainerConfig.newBuilder().setResources(LinuxContainerResources.newBuilder()
                            .setMemoryLimitInBytes(24L << 20))).build(), "<hog>");
            rt.startContainer(StartContainerRequest.newBuilder().setContainerId(hog).build());
            step("ContainerStatus OOM-killed", () -> {
                ContainerStatus st = awaitExit(hog);
                return st.getState() + " " + st.getExitCode() + " " + st.getReason();
            });

            step("ListPodSandbox ready, by label", () -> rt.listPodSandbox(ListPodSandboxRequest.newBuilder()
                    .setFilter(PodSandboxFilter.newBuilder().setState(PodSandboxStateValue.newBuilder()
                            .setState(PodSandboxState.SANDBOX_READY)).putLabelSelector("app", "peer2")).build())
                    .getItemsList().stream().map(p -> p.toBuilder().clearCreatedAt().build()).toList());
            step("ListContainers exited, by label", () -> rt.listContainers(ListContainersRequest.newBuilder()
                    .setFilter(ContainerFilter.newBuilder().setPodSandboxId(pod).setState(ContainerStateValue.newBuilder()
                            .setState(ContainerState.CONTAINER_EXITED))).build()).getContainersList().stream()
                    .map(c -> c.getMetadata().getName()).sorted().toList());
            step("RemoveContainer running", () -> rt.removeContainer(RemoveContainerRequest.newBuilder()
                    .setContainerId(user).build()));
            step("ContainerStatus after removing it running", () -> status(user).getState());
            step("RemovePodSandbox of a ready pod", () -> rt.removePodSandbox(RemovePodSandboxRequest.newBuilder()
                    .setPodSandboxId(pod).build()));
            step("PodSandboxStatus after removing it ready", () -> rt.podSandboxStatus(PodSandboxStatusRequest
                    .newBuilder().setPodSandboxId(pod).build()).getStatus().getState());
        } finally {
            try {
                rt.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
                rt.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
            } catch (StatusRuntimeException gone) {
                // removed by the script
            }
        }
        System.err.printf("bench: peer diff: %s second script done, %d steps%n", side.name(), steps.size());
    }

    private void awaitLog(String name, String text) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try {
                if (Files.exists(dir.resolve(name + ".log")) && Files.readString(dir.resolve(name + ".log")).contains(text)) {
                    return;
                }
            } catch (IOException retry) {
                // being written
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }
}
