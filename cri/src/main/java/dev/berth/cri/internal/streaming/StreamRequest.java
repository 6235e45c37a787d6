package dev.berth.cri.internal.streaming;

import java.util.List;

/** What a streaming URL was issued for; the client's own query may only narrow port-forward ports. */
public sealed interface StreamRequest {

    /** A new process in a running container. */
    record Exec(String containerId, List<String> cmd, boolean tty, boolean stdin, boolean stdout, boolean stderr)
            implements StreamRequest {
        public Exec {
            cmd = List.copyOf(cmd);
        }
    }

    /** The stdio of a running container's main process. */
    record Attach(String containerId, boolean tty, boolean stdin, boolean stdout, boolean stderr)
            implements StreamRequest {
    }

    /** TCP ports inside a pod's network namespace. */
    record PortForward(String sandboxId, List<Integer> ports) implements StreamRequest {
        public PortForward {
            ports = List.copyOf(ports);
        }
    }
}
