package dev.berth.runtime.internal;

import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The runtime's session reaper, started when the first session-scoped task (or idle shim) needs it. */
final class Sessions implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Sessions.class);
    private final Path stateDir;
    private SessionReaper reaper;

    Sessions(Path stateDir) {
        this.stateDir = stateDir;
    }

    synchronized void register(SessionReaper.Target target) {
        if (reaper == null) {
            reaper = SessionReaper.start(stateDir);
        }
        reaper.register(target);
    }

    /** Like {@link #register}, logging instead of failing: for what is only a safety net. */
    void registerQuietly(SessionReaper.Target target) {
        try {
            register(target);
        } catch (RuntimeException e) {
            log.warn("cannot register {}/{} with the session reaper: {}", target.namespace(), target.id(), e.toString());
        }
    }

    void unregister(String namespace, String id) {
        SessionReaper r;
        synchronized (this) {
            r = reaper;
        }
        if (r != null) {
            r.unregister(namespace, id);
        }
    }

    /** Session-scoped tasks end with the session. */
    @Override
    public void close() {
        SessionReaper r;
        synchronized (this) {
            r = reaper;
        }
        if (r != null) {
            r.close();
        }
    }
}
