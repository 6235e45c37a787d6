package dev.berth.cri.internal;

import dev.berth.cri.internal.streaming.StdinPipe;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * A container's stdio as attach sees it: its output goes to the log and to every attached client; its
 * stdin (only when the config asks for stdin) is a pipe attached clients feed, closed after the first
 * client leaves when the config says {@code stdin_once}.
 */
final class ContainerIo {
    final StdinPipe stdin;
    final boolean stdinOnce;
    private final Set<OutputStream> outs = new CopyOnWriteArraySet<>();
    private final Set<OutputStream> errs = new CopyOnWriteArraySet<>();

    ContainerIo(boolean stdin, boolean stdinOnce) {
        this.stdin = stdin ? new StdinPipe(null) : null;
        this.stdinOnce = stdinOnce;
    }

    InputStream stdinStream() {
        return stdin;
    }

    /** The container's stdout (or stderr): {@code log} (nullable) plus the attached clients. */
    OutputStream tee(OutputStream log, boolean stderr) {
        Set<OutputStream> sinks = stderr ? errs : outs;
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (log != null) {
                    log.write(b, off, len);
                }
                for (OutputStream s : sinks) {
                    try {
                        s.write(b, off, len);
                    } catch (IOException | RuntimeException gone) {
                        sinks.remove(s); // a client that went away no longer holds the container up
                    }
                }
            }

            @Override
            public void flush() throws IOException {
                if (log != null) {
                    log.flush();
                }
            }
        };
    }

    void attach(OutputStream out, OutputStream err) {
        if (out != null) {
            outs.add(out);
        }
        if (err != null) {
            errs.add(err);
        }
    }

    void detach(OutputStream out, OutputStream err) {
        if (out != null) {
            outs.remove(out);
        }
        if (err != null) {
            errs.remove(err);
        }
    }
}
