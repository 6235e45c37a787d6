package dev.berth.cri.internal;

import dev.berth.api.BerthException;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs one unary call, mapping Berth's typed errors to the gRPC codes containerd's CRI answers with. */
final class Calls {
    private static final Logger LOG = LoggerFactory.getLogger(Calls.class);

    private Calls() {
    }

    static <T> void unary(String rpc, StreamObserver<T> observer, Supplier<T> work) {
        T result;
        try {
            result = work.get();
        } catch (RuntimeException e) {
            Status status = status(e);
            if (status.getCode() == Status.Code.INTERNAL || status.getCode() == Status.Code.UNKNOWN) {
                LOG.warn("CRI {} failed", rpc, e);
            } else {
                LOG.debug("CRI {}: {}", rpc, e.toString());
            }
            observer.onError(status.withDescription(rpc + ": " + e.getMessage()).asRuntimeException());
            return;
        }
        observer.onNext(result);
        observer.onCompleted();
    }

    static Status status(Throwable e) {
        if (e instanceof BerthException b) {
            return Status.fromCodeValue(b.grpcCode());
        }
        if (e instanceof IllegalArgumentException) {
            return Status.INVALID_ARGUMENT;
        }
        return Status.INTERNAL;
    }
}
