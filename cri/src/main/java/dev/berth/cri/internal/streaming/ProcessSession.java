package dev.berth.cri.internal.streaming;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.internal.StepTimes;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exec or attach seen apart from its transport: starts the process with the streams a transport made,
 * turns its end into a Kubernetes status, applies resizes and ends it when the client goes away. The
 * WebSocket and the SPDY handlers differ only in how bytes and the status travel.
 */
final class ProcessSession {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessSession.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger TIMING = LoggerFactory.getLogger("dev.berth.timing");

    private final StreamRequest request;
    private final StreamBackend backend;
    private final ExecutorService pumps;
    private volatile StreamBackend.Session session;
    private volatile boolean gone;
    /** The step log of this stream from the upgrade on (logger {@code dev.berth.timing} at debug), else null. */
    private final StepTimes steps = TIMING.isDebugEnabled() ? StepTimes.detached() : null;
    private final java.util.concurrent.atomic.AtomicInteger toLog = new java.util.concurrent.atomic.AtomicInteger(2);

    ProcessSession(StreamRequest request, StreamBackend backend, ExecutorService pumps) {
        if (!(request instanceof StreamRequest.Exec) && !(request instanceof StreamRequest.Attach)) {
            throw new IllegalArgumentException("not a process stream: " + request);
        }
        this.request = request;
        this.backend = backend;
        this.pumps = pumps;
    }

    boolean tty() {
        return request instanceof StreamRequest.Exec e ? e.tty() : ((StreamRequest.Attach) request).tty();
    }

    boolean wantsStdin() {
        return request instanceof StreamRequest.Exec e ? e.stdin() : ((StreamRequest.Attach) request).stdin();
    }

    boolean wantsStdout() {
        return request instanceof StreamRequest.Exec e ? e.stdout() : ((StreamRequest.Attach) request).stdout();
    }

    /** A terminal merges stderr into stdout, so there is no stderr stream then. */
    boolean wantsStderr() {
        boolean err = request instanceof StreamRequest.Exec e ? e.stderr() : ((StreamRequest.Attach) request).stderr();
        return err && !tty();
    }

    /**
     * Starts the process off the event loop; {@code finish} gets the final status (a metav1.Status) once it
     * ended and its output was written.
     */
    void start(StdinPipe stdin, OutputStream stdout, OutputStream err, Consumer<ObjectNode> finish) {
        long t0 = System.nanoTime();
        mark("streams-open");
        OutputStream out = steps == null || stdout == null ? stdout : firstWriteMarked(stdout);
        pumps.execute(() -> {
            StreamBackend.Session s;
            long t1 = System.nanoTime();
            StepTimes.adopt(steps);
            try {
                mark("pump-handoff");
                s = request instanceof StreamRequest.Exec e ? backend.exec(e, stdin, out, err)
                        : backend.attach((StreamRequest.Attach) request, stdin, out, err);
            } catch (RuntimeException e) {
                LOG.debug("stream {} failed to start: {}", request, e.toString());
                toLog.set(1);
                finish.accept(failure(e.getMessage(), "InternalError", null));
                return;
            } finally {
                StepTimes.end();
            }
            session = s;
            long t2 = System.nanoTime();
            if (gone) {
                s.end();
            }
            if (steps != null) {
                s.released().whenComplete((v, e) -> logSteps());
            }
            s.exit().whenComplete((code, error) -> {
                mark("exit-to-stream");
                if (LOG.isDebugEnabled()) {
                    LOG.debug("stream {}: pump after {} us, started after {} us, ended after {} us", request,
                            (t1 - t0) / 1000, (t2 - t0) / 1000, (System.nanoTime() - t0) / 1000);
                }
                if (error != null) {
                    finish.accept(failure(error.getMessage(), "InternalError", null));
                } else if (code == 0) {
                    finish.accept(success());
                } else {
                    finish.accept(failure("command terminated with non-zero exit code: exit status " + code,
                            "NonZeroExitCode", code));
                }
            });
        });
    }

    /** Marks step {@code name} of this stream's step log, if one is kept. */
    void mark(String name) {
        StepTimes.markOn(steps, name);
    }

    /** The connection is closed: the step log is printed once the backend also released the process. */
    void closed() {
        mark("closed");
        logSteps();
    }

    private void logSteps() {
        if (steps != null && toLog.decrementAndGet() == 0) {
            TIMING.debug("stream-steps {} {}", request instanceof StreamRequest.Exec ? "exec" : "attach", steps.format());
        }
    }

    private OutputStream firstWriteMarked(OutputStream out) {
        return new java.io.FilterOutputStream(out) {
            private boolean marked;

            @Override
            public void write(byte[] b, int off, int len) throws java.io.IOException {
                if (!marked) {
                    marked = true;
                    mark("first-output");
                }
                out.write(b, off, len);
            }
        };
    }

    /** A resize message ({@code {"Width":..,"Height":..}}); malformed ones are ignored. */
    void resize(JsonNode size) {
        StreamBackend.Session s = session;
        int w = size.path("Width").asInt(0);
        int h = size.path("Height").asInt(0);
        if (s != null && w > 0 && h > 0) {
            pumps.execute(() -> s.resize(w, h)); // a call to the shim: never on the event loop
        }
    }

    void resize(byte[] json) {
        try {
            resize(JSON.readTree(json));
        } catch (java.io.IOException | RuntimeException e) {
            LOG.debug("ignored a resize: {}", e.toString());
        }
    }

    /** The client went away: an exec'd process is killed, an attach detaches. Idempotent. */
    void end() {
        gone = true;
        StreamBackend.Session s = session;
        if (s != null) {
            pumps.execute(s::end);
        }
    }

    /**
     * What the error stream carries: the status JSON from v4 on; before, only a failure's message and
     * nothing at all on success (null).
     */
    static byte[] errorPayload(ObjectNode status, boolean json) {
        if (json) {
            return status.toString().getBytes(StandardCharsets.UTF_8);
        }
        return "Success".equals(status.path("status").asText()) ? null
                : status.path("message").asText().getBytes(StandardCharsets.UTF_8);
    }

    static ObjectNode success() {
        ObjectNode s = JSON.createObjectNode();
        s.putObject("metadata");
        s.put("status", "Success");
        return s;
    }

    static ObjectNode failure(String message, String reason, Integer exitCode) {
        ObjectNode s = JSON.createObjectNode();
        s.putObject("metadata");
        s.put("status", "Failure");
        s.put("message", message == null ? "stream failed" : message);
        s.put("reason", reason);
        if (exitCode != null) {
            ObjectNode cause = s.putObject("details").putArray("causes").addObject();
            cause.put("reason", "ExitCode");
            cause.put("message", String.valueOf(exitCode));
        }
        return s;
    }

    @Override
    public String toString() {
        return request.toString();
    }
}
