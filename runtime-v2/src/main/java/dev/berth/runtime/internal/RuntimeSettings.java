package dev.berth.runtime.internal;

import dev.berth.api.event.Events;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;

/** What {@link dev.berth.api.task.TaskRuntimes.Builder} collected. */
public record RuntimeSettings(Path stateDir, Optional<Events> events, String defaultRuntime,
                              List<Path> shimSearchPath, Optional<Executor> executor, Duration rpcTimeout,
                              boolean sharedShims, Duration sharedShimIdle, boolean spareShim) {
    public RuntimeSettings(Path stateDir, Optional<Events> events, String defaultRuntime, List<Path> shimSearchPath,
                           Optional<Executor> executor, Duration rpcTimeout, boolean sharedShims,
                           Duration sharedShimIdle) {
        this(stateDir, events, defaultRuntime, shimSearchPath, executor, rpcTimeout, sharedShims, sharedShimIdle, false);
    }

    public RuntimeSettings(Path stateDir, Optional<Events> events, String defaultRuntime, List<Path> shimSearchPath,
                           Optional<Executor> executor, Duration rpcTimeout) {
        this(stateDir, events, defaultRuntime, shimSearchPath, executor, rpcTimeout, false, Duration.ZERO, false);
    }
}
