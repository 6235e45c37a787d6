package dev.berth.cri.internal;

import dev.berth.cri.internal.proto.*;
import io.grpc.stub.StreamObserver;

/** The ImageService RPCs, each delegated to {@link CriImages}. */
final class ImageServiceImpl extends ImageServiceGrpc.ImageServiceImplBase {
    private final CriImages images;

    ImageServiceImpl(CriImages images) {
        this.images = images;
    }

    @Override
    public void listImages(ListImagesRequest request, StreamObserver<ListImagesResponse> observer) {
        Calls.unary("ListImages", observer, () -> images.listImages(request));
    }

    @Override
    public void imageStatus(ImageStatusRequest request, StreamObserver<ImageStatusResponse> observer) {
        Calls.unary("ImageStatus", observer, () -> images.imageStatus(request));
    }

    @Override
    public void pullImage(PullImageRequest request, StreamObserver<PullImageResponse> observer) {
        Calls.unary("PullImage", observer, () -> images.pullImage(request));
    }

    @Override
    public void removeImage(RemoveImageRequest request, StreamObserver<RemoveImageResponse> observer) {
        Calls.unary("RemoveImage", observer, () -> images.removeImage(request));
    }

    @Override
    public void imageFsInfo(ImageFsInfoRequest request, StreamObserver<ImageFsInfoResponse> observer) {
        Calls.unary("ImageFsInfo", observer, () -> images.imageFsInfo(request));
    }

}
