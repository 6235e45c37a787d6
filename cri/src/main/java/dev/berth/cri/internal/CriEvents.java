package dev.berth.cri.internal;

import dev.berth.cri.internal.proto.ContainerEventResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CopyOnWriteArrayList;

/** The GetContainerEvents subscribers: each gets every container event from its subscription on. */
final class CriEvents {
    private final CopyOnWriteArrayList<StreamObserver<ContainerEventResponse>> subscribers = new CopyOnWriteArrayList<>();

    void subscribe(StreamObserver<ContainerEventResponse> observer) {
        if (observer instanceof ServerCallStreamObserver<ContainerEventResponse> server) {
            server.setOnCancelHandler(() -> subscribers.remove(observer));
        }
        subscribers.add(observer);
    }

    void publish(ContainerEventResponse event) {
        for (StreamObserver<ContainerEventResponse> s : subscribers) {
            try {
                synchronized (s) {
                    s.onNext(event);
                }
            } catch (RuntimeException gone) {
                subscribers.remove(s);
            }
        }
    }

    void close() {
        for (StreamObserver<ContainerEventResponse> s : subscribers) {
            try {
                synchronized (s) {
                    s.onCompleted();
                }
            } catch (RuntimeException ignored) {
                // the client left
            }
        }
        subscribers.clear();
    }
}
