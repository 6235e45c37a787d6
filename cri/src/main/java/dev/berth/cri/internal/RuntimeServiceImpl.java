package dev.berth.cri.internal;

import dev.berth.cri.internal.proto.*;
import io.grpc.stub.StreamObserver;

/** The RuntimeService RPCs Berth implements, each delegated to {@link CriRuntime}; the rest answer UNIMPLEMENTED. */
final class RuntimeServiceImpl extends RuntimeServiceGrpc.RuntimeServiceImplBase {
    private final CriRuntime rt;

    RuntimeServiceImpl(CriRuntime rt) {
        this.rt = rt;
    }

    @Override
    public void version(VersionRequest request, StreamObserver<VersionResponse> observer) {
        Calls.unary("Version", observer, () -> rt.version(request));
    }

    @Override
    public void runPodSandbox(RunPodSandboxRequest request, StreamObserver<RunPodSandboxResponse> observer) {
        Calls.unary("RunPodSandbox", observer, () -> rt.runPodSandbox(request));
    }

    @Override
    public void stopPodSandbox(StopPodSandboxRequest request, StreamObserver<StopPodSandboxResponse> observer) {
        Calls.unary("StopPodSandbox", observer, () -> rt.stopPodSandbox(request));
    }

    @Override
    public void removePodSandbox(RemovePodSandboxRequest request, StreamObserver<RemovePodSandboxResponse> observer) {
        Calls.unary("RemovePodSandbox", observer, () -> rt.removePodSandbox(request));
    }

    @Override
    public void podSandboxStatus(PodSandboxStatusRequest request, StreamObserver<PodSandboxStatusResponse> observer) {
        Calls.unary("PodSandboxStatus", observer, () -> rt.podSandboxStatus(request));
    }

    @Override
    public void listPodSandbox(ListPodSandboxRequest request, StreamObserver<ListPodSandboxResponse> observer) {
        Calls.unary("ListPodSandbox", observer, () -> rt.listPodSandbox(request));
    }

    @Override
    public void createContainer(CreateContainerRequest request, StreamObserver<CreateContainerResponse> observer) {
        Calls.unary("CreateContainer", observer, () -> rt.createContainer(request));
    }

    @Override
    public void startContainer(StartContainerRequest request, StreamObserver<StartContainerResponse> observer) {
        Calls.unary("StartContainer", observer, () -> rt.startContainer(request));
    }

    @Override
    public void stopContainer(StopContainerRequest request, StreamObserver<StopContainerResponse> observer) {
        Calls.unary("StopContainer", observer, () -> rt.stopContainer(request));
    }

    @Override
    public void removeContainer(RemoveContainerRequest request, StreamObserver<RemoveContainerResponse> observer) {
        Calls.unary("RemoveContainer", observer, () -> rt.removeContainer(request));
    }

    @Override
    public void listContainers(ListContainersRequest request, StreamObserver<ListContainersResponse> observer) {
        Calls.unary("ListContainers", observer, () -> rt.listContainers(request));
    }

    @Override
    public void containerStatus(ContainerStatusRequest request, StreamObserver<ContainerStatusResponse> observer) {
        Calls.unary("ContainerStatus", observer, () -> rt.containerStatus(request));
    }

    @Override
    public void updateContainerResources(UpdateContainerResourcesRequest request, StreamObserver<UpdateContainerResourcesResponse> observer) {
        Calls.unary("UpdateContainerResources", observer, () -> rt.updateContainerResources(request));
    }

    @Override
    public void reopenContainerLog(ReopenContainerLogRequest request, StreamObserver<ReopenContainerLogResponse> observer) {
        Calls.unary("ReopenContainerLog", observer, () -> rt.reopenContainerLog(request));
    }

    @Override
    public void execSync(ExecSyncRequest request, StreamObserver<ExecSyncResponse> observer) {
        Calls.unary("ExecSync", observer, () -> rt.execSync(request));
    }

    @Override
    public void checkpointContainer(CheckpointContainerRequest request,
                                    StreamObserver<CheckpointContainerResponse> observer) {
        Calls.unary("CheckpointContainer", observer, () -> rt.checkpointContainer(request));
    }

    @Override
    public void containerStats(ContainerStatsRequest request, StreamObserver<ContainerStatsResponse> observer) {
        Calls.unary("ContainerStats", observer, () -> rt.containerStats(request));
    }

    @Override
    public void listContainerStats(ListContainerStatsRequest request, StreamObserver<ListContainerStatsResponse> observer) {
        Calls.unary("ListContainerStats", observer, () -> rt.listContainerStats(request));
    }

    @Override
    public void podSandboxStats(PodSandboxStatsRequest request, StreamObserver<PodSandboxStatsResponse> observer) {
        Calls.unary("PodSandboxStats", observer, () -> rt.podSandboxStats(request));
    }

    @Override
    public void listPodSandboxStats(ListPodSandboxStatsRequest request, StreamObserver<ListPodSandboxStatsResponse> observer) {
        Calls.unary("ListPodSandboxStats", observer, () -> rt.listPodSandboxStats(request));
    }

    @Override
    public void updateRuntimeConfig(UpdateRuntimeConfigRequest request, StreamObserver<UpdateRuntimeConfigResponse> observer) {
        Calls.unary("UpdateRuntimeConfig", observer, () -> rt.updateRuntimeConfig(request));
    }

    @Override
    public void status(StatusRequest request, StreamObserver<StatusResponse> observer) {
        Calls.unary("Status", observer, () -> rt.status(request));
    }

    @Override
    public void runtimeConfig(RuntimeConfigRequest request, StreamObserver<RuntimeConfigResponse> observer) {
        Calls.unary("RuntimeConfig", observer, () -> rt.runtimeConfig(request));
    }

    @Override
    public void getContainerEvents(GetEventsRequest request, StreamObserver<ContainerEventResponse> observer) {
        rt.events().subscribe(observer);
    }

    @Override
    public void exec(ExecRequest request, StreamObserver<ExecResponse> observer) {
        Calls.unary("Exec", observer, () -> rt.streams().exec(request));
    }

    @Override
    public void attach(AttachRequest request, StreamObserver<AttachResponse> observer) {
        Calls.unary("Attach", observer, () -> rt.streams().attach(request));
    }

    @Override
    public void portForward(PortForwardRequest request, StreamObserver<PortForwardResponse> observer) {
        Calls.unary("PortForward", observer, () -> rt.streams().portForward(request));
    }
}
