package dev.berth.cri.internal.streaming;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** What the streaming server needs from the runtime: processes to stream and a way into a pod's network. */
public interface StreamBackend {

    /**
     * Starts {@code request}'s command with the given streams (null where the request has none); output
     * streams may block while the client is slow.
     */
    Session exec(StreamRequest.Exec request, InputStream stdin, OutputStream stdout, OutputStream stderr);

    /** Connects the streams to the container's main process until {@link Session#end()}. */
    Session attach(StreamRequest.Attach request, InputStream stdin, OutputStream stdout, OutputStream stderr);

    /**
     * The command line of a relay whose stdin and stdout are a TCP connection to {@code port} on the pod's
     * loopback (run in the pod's network namespace, never by setns in this JVM).
     */
    List<String> portForwardRelay(String sandboxId, int port);

    /**
     * The command line of a helper that connects to {@code port} on the pod's loopback (in the pod's
     * network namespace), keeps the connected socket as its file descriptor 3, prints {@code connected} and a
     * newline, and exits when its stdin ends; it exits non-zero with the reason on stderr when it cannot
     * connect. Null where the backend has none (the relay process of {@link #portForwardRelay} is used).
     */
    default List<String> portConnector(String sandboxId, int port) {
        return null;
    }

    /** A running stream target. */
    interface Session {
        /** The exit code once the process ended and its output was delivered. */
        CompletableFuture<Integer> exit();

        /** The client's terminal size changed. */
        void resize(int columns, int rows);

        /** The client went away: an exec'd process is killed, an attach detaches. Idempotent. */
        void end();

        /** Completes once the backend let go of the process (an exec: deleted from the shim). */
        default CompletableFuture<Void> released() {
            return exit().handle((code, e) -> null);
        }
    }
}
