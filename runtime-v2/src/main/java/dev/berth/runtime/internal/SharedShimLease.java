package dev.berth.runtime.internal;

import dev.berth.runtime.internal.proto.task.ConnectRequest;
import dev.berth.runtime.internal.proto.task.ConnectResponse;
import java.util.concurrent.atomic.AtomicBoolean;

/** One task's use of a {@link SharedShim}: counted as a user until the task is deleted or lost. */
final class SharedShimLease implements ShimConnection {
    private final SharedShim shim;
    private final String taskId;
    private final AtomicBoolean left = new AtomicBoolean();

    /** For a task already counted as a user of {@code shim} ({@link SharedShim#attach()}). */
    SharedShimLease(SharedShim shim, String taskId) {
        this.shim = shim;
        this.taskId = taskId;
    }

    SharedShim shim() {
        return shim;
    }

    @Override
    public ShimClient client() {
        return shim.client();
    }

    @Override
    public ConnectResponse connect() {
        return ShimClient.await(shim.client().connect(ConnectRequest.newBuilder().setId(taskId).build(),
                RuntimeContext.CONNECT_TIMEOUT));
    }

    /** Leaves the shim, which stops (or idles) once no task uses it. Once only. */
    @Override
    public void release(boolean now) {
        if (left.compareAndSet(false, true)) {
            shim.detach();
        }
    }

    /** The shim keeps serving the task; the runtime's close decides about the shim itself. */
    @Override
    public void detach() {
    }

    @Override
    public void abandon() {
        release(true);
    }
}
