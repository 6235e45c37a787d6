package dev.berth.cri.internal.streaming;

import io.netty.channel.Channel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * A forwarded connection through a relay process inside the pod's network namespace whose stdin and stdout
 * are a TCP connection to the port ({@code busybox nc}): every byte crosses two pipes and the relay's small
 * buffers. The fallback where {@link SocketRelay} cannot run, and the A/B side of the benchmark.
 */
final class ProcessRelay implements PortRelay {
    private final StdinPipe toPod;
    private final Process process;

    private ProcessRelay(StdinPipe toPod, Process process) {
        this.toPod = toPod;
        this.process = process;
    }

    static ProcessRelay start(StreamContext context, String sandboxId, int port, Channel ch, OutputStream data,
                           Consumer<String> error, Runnable done) {
        String what = "error forwarding port " + port + " to pod " + sandboxId + ": ";
        StdinPipe in = new StdinPipe(paused -> ch.config().setAutoRead(!paused));
        Process relay;
        try {
            relay = new ProcessBuilder(context.backend().portForwardRelay(sandboxId, port)).start();
        } catch (IOException | RuntimeException e) {
            error.accept(what + e.getMessage());
            done.run();
            return new ProcessRelay(in, null);
        }
        context.pumps().execute(() -> copyIn(in, relay));
        context.pumps().execute(() -> {
            byte[] buf = new byte[FrameOutput.MAX_FRAME];
            try (InputStream out = relay.getInputStream()) {
                int n;
                while ((n = out.read(buf)) >= 0) {
                    data.write(buf, 0, n);
                }
                int code = relay.waitFor();
                String why = new String(relay.getErrorStream().readNBytes(4096), StandardCharsets.UTF_8).trim();
                if (code != 0 && ch.isActive()) {
                    error.accept(what + "exit status " + code + (why.isEmpty() ? "" : ": " + why));
                }
            } catch (IOException e) {
                relay.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                relay.destroyForcibly();
            }
            in.close(); // the relay is gone: the pump feeding it stops, whatever the client still sends
            done.run();
        });
        return new ProcessRelay(in, relay);
    }

    private static void copyIn(StdinPipe in, Process relay) {
        byte[] buf = new byte[FrameOutput.MAX_FRAME];
        try (OutputStream out = relay.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                out.flush(); // the process's stdin is buffered: a request must reach the pod now
            }
        } catch (IOException e) {
            // the relay or the client went away; the other side notices
        }
    }

    @Override
    public void offer(byte[] b) {
        toPod.offer(b);
    }

    @Override
    public void closeWrite() {
        toPod.closeWrite();
    }

    @Override
    public void kill() {
        toPod.close();
        if (process != null) {
            process.destroyForcibly();
        }
    }
}
