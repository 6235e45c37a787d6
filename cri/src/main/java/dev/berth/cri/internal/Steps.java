package dev.berth.cri.internal;

import dev.berth.api.internal.StepTimes;
import org.slf4j.Logger;

/**
 * Where a CRI call's time goes, step by step, logged at debug ({@code dev.berth.cri.internal.Steps}):
 * {@code RunPodSandbox 3f2a…: image 0 ms, netns 4 ms, create 31 ms, task 88 ms, network 212 ms (ran 240 ms)}.
 * With debug on, the finer marks of the layers below on the calling thread (Berth's {@code ctr-*} steps of a
 * container's create, the runtime's {@code shim}, {@code create-rpc}, {@code del-rpc}, ...) follow after
 * {@code inner:}. Costs two {@code nanoTime} calls per step when debug is off.
 */
final class Steps {
    private static final Logger LOG = org.slf4j.LoggerFactory.getLogger(Steps.class);

    private final String call;
    private final long start = System.nanoTime();
    private long last = start;
    private final StringBuilder text = new StringBuilder();
    /** The inner step log this call opened on its thread (none when debug is off or an outer call has one). */
    private final StepTimes inner;

    Steps(String call, String id) {
        this.call = call + " " + (id.length() > 12 ? id.substring(0, 12) : id);
        this.inner = LOG.isDebugEnabled() && StepTimes.current() == null ? StepTimes.begin() : null;
    }

    /** The step that ended now (since the last mark). */
    void mark(String step) {
        long now = System.nanoTime();
        add(step, now - last);
        last = now;
    }

    /** A step that ran beside the others for {@code nanos}. */
    void add(String step, long nanos) {
        if (LOG.isDebugEnabled()) {
            synchronized (text) {
                text.append(text.length() == 0 ? "" : ", ").append(step).append(' ').append(nanos / 1_000_000).append(" ms");
            }
        }
    }

    /** Logs the steps and closes the inner log this call opened; call once, on the calling thread. */
    void log() {
        if (inner != null && StepTimes.current() == inner) {
            StepTimes.end();
        }
        if (LOG.isDebugEnabled()) {
            String finer = inner == null ? "" : inner.format();
            synchronized (text) {
                LOG.debug("{}: {}; total {} ms{}", call, text, (System.nanoTime() - start) / 1_000_000,
                        finer.isEmpty() ? "" : "; inner: " + finer);
            }
        }
    }
}
