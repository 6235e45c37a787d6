package dev.berth.api.event;

import dev.berth.api.Mount;
import java.time.Instant;
import java.util.List;

/**
 * {@code /tasks/*} events, as shims publish them (field for field containerd's {@code containerd.events}
 * messages). {@code id} in {@link Exit} and {@link Delete} is the exec id, or the container id for the
 * init process.
 */
public sealed interface TaskEvent extends Event {
    String containerId();

    record Create(String containerId, String bundle, List<Mount> rootfs, String stdin, String stdout,
                  String stderr, boolean terminal, String checkpoint, int pid) implements TaskEvent {
        public String topic() { return "/tasks/create"; }
    }

    record Start(String containerId, int pid) implements TaskEvent {
        public String topic() { return "/tasks/start"; }
    }

    record Exit(String containerId, String id, int pid, int exitStatus, Instant exitedAt) implements TaskEvent {
        public String topic() { return "/tasks/exit"; }
    }

    record Delete(String containerId, String id, int pid, int exitStatus, Instant exitedAt) implements TaskEvent {
        public String topic() { return "/tasks/delete"; }
    }

    record Oom(String containerId) implements TaskEvent {
        public String topic() { return "/tasks/oom"; }
    }

    record ExecAdded(String containerId, String execId) implements TaskEvent {
        public String topic() { return "/tasks/exec-added"; }
    }

    record ExecStarted(String containerId, String execId, int pid) implements TaskEvent {
        public String topic() { return "/tasks/exec-started"; }
    }

    record Paused(String containerId) implements TaskEvent {
        public String topic() { return "/tasks/paused"; }
    }

    record Resumed(String containerId) implements TaskEvent {
        public String topic() { return "/tasks/resumed"; }
    }

    record Checkpointed(String containerId, String checkpoint) implements TaskEvent {
        public String topic() { return "/tasks/checkpointed"; }
    }
}
