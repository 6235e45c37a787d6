package dev.berth.runtime.internal;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Cuts a byte stream into lines for a logger: one call per line (without its {@code \n} or {@code \r\n}),
 * a line longer than {@code maxLineBytes} is passed on in pieces of that size so a stream without newlines
 * cannot grow memory. {@link #flush()} keeps a partial line (the pumps flush after every read); {@link
 * #close()} passes it on. Not thread-safe: the one sink that owns it serializes access.
 */
final class LineSplitter extends OutputStream {
    static final int MAX_LINE_BYTES = 8 * 1024;

    private final Consumer<String> lines;
    private final int maxLineBytes;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    LineSplitter(Consumer<String> lines, int maxLineBytes) {
        this.lines = lines;
        this.maxLineBytes = maxLineBytes;
    }

    /** Whether part of a line has been written and not yet passed on. */
    boolean midLine() {
        return line.size() > 0;
    }

    /** How many of {@code len} bytes at {@code off} complete the current line (all of them if none does). */
    int toEndOfLine(byte[] b, int off, int len) {
        int room = maxLineBytes - line.size();
        for (int i = 0; i < len && i < room; i++) {
            if (b[off + i] == '\n') {
                return i + 1;
            }
        }
        return Math.min(len, room);
    }

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        while (len > 0) {
            int n = toEndOfLine(b, off, len);
            boolean newline = b[off + n - 1] == '\n';
            line.write(b, off, newline ? n - 1 : n);
            if (newline || line.size() >= maxLineBytes) {
                emit();
            }
            off += n;
            len -= n;
        }
    }

    private void emit() {
        byte[] bytes = line.toByteArray();
        line.reset();
        int end = bytes.length;
        if (end > 0 && bytes[end - 1] == '\r') {
            end--;
        }
        lines.accept(new String(bytes, 0, end, StandardCharsets.UTF_8));
    }

    /** Drops the part of a line written so far (a caller that got those bytes elsewhere). */
    void discardPartialLine() {
        line.reset();
    }

    @Override
    public void close() {
        if (midLine()) {
            emit();
        }
    }
}
