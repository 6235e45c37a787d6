package dev.berth.cli;

import dev.berth.api.Descriptor;
import dev.berth.api.content.Status;
import dev.berth.registry.ProgressListener;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The transfer display of pull, push, import and export, on stderr: one row per blob (bytes so far, total,
 * rate) redrawn in place on a terminal, as ctr and podman do; one plain line per finished blob when stderr is
 * not a terminal (a log, a pipe); nothing with {@code --quiet}. Rows come from a pull's or push's
 * {@link ProgressListener} calls, or from polling the content store's ingests while an import writes them.
 */
final class Progress implements ProgressListener, AutoCloseable {
    /** How the display is drawn. */
    enum Mode {
        /** Rows redrawn in place with ANSI cursor movements. */
        TERMINAL,
        /** A line per finished row. */
        PLAIN,
        /** Nothing. */
        OFF;

        /**
         * {@code OFF} when quiet; {@code TERMINAL} when the JVM has a console and the terminal can move the
         * cursor; {@code PLAIN} otherwise. {@code BERTH_PROGRESS=terminal|plain|off} overrides the guess.
         */
        static Mode detect(boolean quiet) {
            if (quiet) {
                return OFF;
            }
            String forced = System.getenv("BERTH_PROGRESS");
            if (forced != null && !forced.isEmpty()) {
                return valueOf(forced.toUpperCase(Locale.ROOT));
            }
            String term = System.getenv("TERM");
            return System.console() != null && term != null && !term.equals("dumb") ? TERMINAL : PLAIN;
        }
    }

    private static final long REDRAW_MS = 150;
    private static final int LABEL_WIDTH = 19;

    private final PrintWriter err;
    private final Mode mode;
    private final Map<String, Row> rows = new LinkedHashMap<>();
    private final ScheduledExecutorService ticker;
    private int drawn;
    private boolean closed;

    Progress(PrintWriter err, Mode mode) {
        this.err = err;
        this.mode = mode;
        if (mode == Mode.TERMINAL) {
            ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "berth-progress");
                t.setDaemon(true);
                return t;
            });
            ticker.scheduleWithFixedDelay(this::redraw, REDRAW_MS, REDRAW_MS, TimeUnit.MILLISECONDS);
        } else {
            ticker = null;
        }
    }

    /** One transfer: a blob of a pull or push, an ingest of an import, or a whole export. */
    private static final class Row {
        final String label;
        long total;
        long done;
        long startNanos = System.nanoTime();
        long endNanos;
        String state = "waiting";

        Row(String label, long total) {
            this.label = label;
            this.total = total;
        }

        boolean finished() {
            return endNanos != 0;
        }

        String line() {
            double seconds = Math.max(1e-3, ((finished() ? endNanos : System.nanoTime()) - startNanos) / 1e9);
            String amount = total > 0 ? Output.size(done) + " / " + Output.size(total) : Output.size(done);
            String rate = state.equals("exists") ? "" : "  " + Output.size((long) (done / seconds)) + "/s";
            String time = finished() && !state.equals("exists")
                    ? String.format(Locale.ROOT, "  %.1fs", seconds) : "";
            return String.format(Locale.ROOT, "%-" + LABEL_WIDTH + "s %-11s %s%s%s", label, state, amount, rate, time);
        }
    }

    static String label(Descriptor blob) {
        String type = blob.mediaType();
        String kind = type.contains("layer") ? "layer" : type.contains("config") ? "config"
                : type.contains("index") || type.contains("list") ? "index" : "manifest";
        String hex = blob.digest().hex();
        return kind + " " + hex.substring(0, Math.min(12, hex.length()));
    }

    private synchronized Row row(String key, String label, long total) {
        return rows.computeIfAbsent(key, k -> new Row(label, total));
    }

    private synchronized void finish(Row r, String state) {
        if (r.finished()) {
            return;
        }
        r.state = state;
        r.endNanos = System.nanoTime();
        if (mode == Mode.PLAIN) {
            err.println(r.line().stripTrailing());
            err.flush();
        }
    }

    // ---- a pull or push

    @Override
    public void blobStarted(Descriptor blob, long resumedAt) {
        Row r = row(blob.digest().toString(), label(blob), blob.size());
        synchronized (this) {
            r.state = "transferring";
            r.done = resumedAt;
        }
    }

    @Override
    public void blobProgress(Descriptor blob, long bytesDone) {
        Row r = row(blob.digest().toString(), label(blob), blob.size());
        synchronized (this) {
            r.done = bytesDone;
        }
    }

    @Override
    public void blobDone(Descriptor blob) {
        Row r = row(blob.digest().toString(), label(blob), blob.size());
        synchronized (this) {
            r.done = blob.size();
            r.state = "verifying";
        }
    }

    @Override
    public void blobVerified(Descriptor blob) {
        Row r = row(blob.digest().toString(), label(blob), blob.size());
        synchronized (this) {
            r.done = blob.size();
        }
        finish(r, "done");
    }

    @Override
    public void blobSkipped(Descriptor blob) {
        Row r = row(blob.digest().toString(), label(blob), blob.size());
        synchronized (this) {
            r.done = blob.size();
        }
        finish(r, "exists");
    }

    // ---- an import: the content store's ingests, polled

    /**
     * Runs {@code work} while polling {@code ingests} (the content store's open writes): each ingest is a row
     * while it is written and done once it is gone (committed).
     */
    <T> T polling(Supplier<List<Status>> ingests, Supplier<T> work) {
        if (mode == Mode.OFF) {
            return work.get();
        }
        Set<String> before = new HashSet<>();
        ingests.get().forEach(s -> before.add(s.ref()));
        ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "berth-progress-poll");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(() -> poll(ingests, before), 0, 100, TimeUnit.MILLISECONDS);
        try {
            return work.get();
        } finally {
            poller.shutdownNow();
            try {
                poller.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            poll(ingests, before);
        }
    }

    private void poll(Supplier<List<Status>> ingests, Set<String> before) {
        List<Status> now;
        try {
            now = ingests.get();
        } catch (RuntimeException e) {
            return; // the store closed under the poller: the import is over
        }
        Set<String> live = new HashSet<>();
        for (Status s : now) {
            if (before.contains(s.ref())) {
                continue; // an ingest of someone else, left from earlier
            }
            live.add(s.ref());
            String label = s.expected() != null
                    ? "blob " + s.expected().hex().substring(0, Math.min(12, s.expected().hex().length()))
                    : s.ref().length() > LABEL_WIDTH ? s.ref().substring(0, LABEL_WIDTH) : s.ref();
            Row r = row(s.ref(), label, s.total());
            synchronized (this) {
                r.state = "writing";
                r.done = s.offset();
                if (s.total() > 0) {
                    r.total = s.total();
                }
            }
        }
        List<Row> gone = new ArrayList<>();
        synchronized (this) {
            rows.forEach((ref, r) -> {
                if (!live.contains(ref) && !r.finished()) {
                    gone.add(r);
                }
            });
        }
        for (Row r : gone) {
            synchronized (this) {
                if (r.total > 0) {
                    r.done = r.total;
                }
            }
            finish(r, "done");
        }
    }

    // ---- a whole stream (export)

    /** A row for one stream of {@code label}, counted by the caller with {@link #add}. */
    Object stream(String label) {
        Row r = row("stream:" + label, label, 0);
        synchronized (this) {
            r.state = "writing";
        }
        return r;
    }

    void add(Object stream, long bytes) {
        if (mode == Mode.OFF) {
            return;
        }
        synchronized (this) {
            ((Row) stream).done += bytes;
        }
    }

    void done(Object stream) {
        finish((Row) stream, "done");
    }

    // ---- drawing

    private synchronized void redraw() {
        if (closed || rows.isEmpty()) {
            return;
        }
        StringBuilder b = new StringBuilder();
        if (drawn > 0) {
            b.append("\033[").append(drawn).append('A');
        }
        for (Row r : rows.values()) {
            b.append("\r\033[2K").append(r.line()).append('\n');
        }
        drawn = rows.size();
        err.print(b);
        err.flush();
    }

    /** Draws the final state (a terminal) and stops redrawing. */
    @Override
    public void close() {
        if (ticker != null) {
            ticker.shutdownNow();
            redraw();
        }
        synchronized (this) {
            closed = true;
        }
    }
}
