package dev.berth.runtime.internal;

import dev.berth.runtime.internal.proto.task.DeleteResponse;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/** A shim binary's two actions: {@code start} (returns the socket it serves) and {@code delete} (cleanup). */
interface ShimProcesses {
    Path start(Path shim, ShimLauncher.Context context, byte[] options);

    DeleteResponse delete(Path shim, ShimLauncher.Context context);

    /**
     * The delete action's report, or exit status 255 if it fails: containerd's answer when the shim cannot
     * say how the process ended.
     */
    default DeleteResponse deleteOrReport255(Path shim, ShimLauncher.Context context) {
        try {
            return delete(shim, context);
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(ShimProcesses.class).warn("cleanup of {}/{} by {} delete failed: {}",
                    context.namespace(), context.id(), shim, e.toString());
            return DeleteResponse.newBuilder().setExitStatus(255).build();
        }
    }
}
