package dev.berth.junit.internal;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A container's output as it arrives: kept in memory (stdout and stderr interleaved, up to
 * {@value #MAX_BYTES} bytes; older output is dropped line by line past that) and handed line by line to
 * the consumers. Thread-safe.
 */
public final class ContainerLogs {
    static final int MAX_BYTES = 8 << 20;

    private final List<String> lines = new ArrayList<>();
    private long bytes;
    private final List<Consumer<String>> consumers = new CopyOnWriteArrayList<>();
    private final LineStream stdout = new LineStream();
    private final LineStream stderr = new LineStream();

    public void addConsumer(Consumer<String> consumer) {
        consumers.add(consumer);
    }

    public OutputStream stdout() {
        return stdout;
    }

    public OutputStream stderr() {
        return stderr;
    }

    /** Adds text (e.g. read from a log file of a reused container) as if the container had written it. */
    public void append(String text) {
        text.lines().forEach(this::line);
    }

    /** Every complete line so far. */
    public synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    /** All output so far, one {@code \n} after each line (a last partial line included). */
    public String text() {
        StringBuilder sb = new StringBuilder();
        for (String l : lines()) {
            sb.append(l).append('\n');
        }
        sb.append(stdout.partial()).append(stderr.partial());
        return sb.toString();
    }

    /** The last {@code n} lines. */
    public synchronized List<String> tail(int n) {
        return List.copyOf(lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    private void line(String line) {
        synchronized (this) {
            lines.add(line);
            bytes += line.length() + 1;
            while (bytes > MAX_BYTES && lines.size() > 1) {
                bytes -= lines.remove(0).length() + 1;
            }
        }
        for (Consumer<String> c : consumers) {
            try {
                c.accept(line);
            } catch (RuntimeException e) {
                // a consumer's failure must not stop the output of the container
            }
        }
    }

    private final class LineStream extends OutputStream {
        private final ByteArrayOutputStream current = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            if (b == '\n') {
                line(current.toString(StandardCharsets.UTF_8));
                current.reset();
            } else {
                current.write(b);
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            int start = off;
            for (int i = off; i < off + len; i++) {
                if (b[i] == '\n') {
                    current.write(b, start, i - start);
                    line(current.toString(StandardCharsets.UTF_8));
                    current.reset();
                    start = i + 1;
                }
            }
            current.write(b, start, off + len - start);
        }

        synchronized String partial() {
            return current.toString(StandardCharsets.UTF_8);
        }
    }
}
