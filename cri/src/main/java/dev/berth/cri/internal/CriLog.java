package dev.berth.cri.internal;

import dev.berth.api.IoFailureException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * A container's log file in the CRI format: one record per line, {@code <RFC3339Nano time> <stdout|stderr>
 * <F|P> <content>}, where P marks a partial line continued by the next record (a line longer than
 * {@link #MAX_LINE} is split); a line's {@code \r\n} ending is dropped whole, as a tty ends lines.
 * {@link #reopen()} starts writing a new file at the same path, after the kubelet has rotated the old one
 * away. Thread-safe.
 */
final class CriLog implements AutoCloseable {
    static final int MAX_LINE = 16 * 1024;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_OFFSET_DATE_TIME;

    private final Path file;
    private final Clock clock;
    private FileChannel channel;

    CriLog(Path file, Clock clock) {
        this.file = file;
        this.clock = clock;
        this.channel = open(file);
    }

    Path file() {
        return file;
    }

    /** The stream a container's {@code stdout} or {@code stderr} is copied into. */
    OutputStream stream(String tag) {
        return new LineStream(tag);
    }

    synchronized void reopen() {
        close();
        channel = open(file);
    }

    @Override
    public synchronized void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing was buffered
            }
            channel = null;
        }
    }

    private synchronized void record(String tag, byte[] content, int length, boolean partial) {
        if (channel == null) {
            return; // closed: the container is gone
        }
        String head = TIME.format(OffsetDateTime.now(clock).withOffsetSameInstant(ZoneOffset.UTC)) + " " + tag
                + (partial ? " P " : " F ");
        byte[] h = head.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(h.length + length + 1);
        buf.put(h).put(content, 0, length).put((byte) '\n').flip();
        try {
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        } catch (IOException e) {
            throw IoFailureException.of("cannot write the container log " + file, e);
        }
    }

    private static FileChannel open(Path file) {
        try {
            Files.createDirectories(file.getParent());
            return FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-r-----")));
        } catch (IOException e) {
            throw IoFailureException.of("cannot open the container log " + file, e);
        }
    }

    /** Cuts what a stream writes into lines; the rest of an unfinished line is written at close as full. */
    private final class LineStream extends OutputStream {
        private final String tag;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        LineStream(String tag) {
            this.tag = tag;
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            for (int i = off; i < off + len; i++) {
                if (b[i] == '\n') {
                    // a line ended by \r\n (a tty's, always) is recorded without the \r, as containerd's CRI
                    byte[] content = line.toByteArray();
                    int length = content.length > 0 && content[content.length - 1] == '\r' ? content.length - 1
                            : content.length;
                    record(tag, content, length, false);
                    line.reset();
                } else {
                    line.write(b[i]);
                    if (line.size() >= MAX_LINE) {
                        byte[] content = line.toByteArray();
                        line.reset();
                        if (b[i] == '\r') {
                            // it may be a \r\n split here: the \r waits for what comes next
                            record(tag, content, content.length - 1, true);
                            line.write('\r');
                        } else {
                            record(tag, content, content.length, true);
                        }
                    }
                }
            }
        }

        @Override
        public synchronized void close() {
            if (line.size() > 0) {
                record(tag, line.toByteArray(), line.size(), false);
                line.reset();
            }
        }
    }
}
