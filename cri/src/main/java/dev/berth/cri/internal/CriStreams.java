package dev.berth.cri.internal;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.internal.StepTimes;
import dev.berth.api.task.ExecConfig;
import dev.berth.api.task.ExecProcess;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.cri.internal.proto.AttachRequest;
import dev.berth.cri.internal.proto.AttachResponse;
import dev.berth.cri.internal.proto.ExecRequest;
import dev.berth.cri.internal.proto.ExecResponse;
import dev.berth.cri.internal.proto.PortForwardRequest;
import dev.berth.cri.internal.proto.PortForwardResponse;
import dev.berth.cri.internal.streaming.StreamBackend;
import dev.berth.cri.internal.streaming.StreamRequest;
import dev.berth.cri.internal.streaming.StreamingServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Exec, Attach and PortForward: the RPCs hand out URLs of the {@link StreamingServer}, which calls back here. */
final class CriStreams implements StreamBackend {
    private static final Logger LOG = LoggerFactory.getLogger(CriStreams.class);

    /** At most this many execs wait prepared for their stream at once. */
    static final int MAX_PREPARED = 16;

    private final CriRuntime rt;
    /**
     * Whether an exec takes the short path: Exec creates it in the shim while the client connects, and it is
     * deleted from the shim after its status went out rather than before. {@code -Dberth.cri.fastExec=false}:
     * created once the streams are open, deleted before the status (the A/B side of the benchmark).
     */
    private final boolean fastExec = !"false".equals(System.getProperty("berth.cri.fastExec"));
    /** Prepared execs by their request (the very object the token stands for). */
    private final Map<StreamRequest.Exec, Prepared> prepared = new IdentityHashMap<>();
    private volatile StreamingServer server;

    CriStreams(CriRuntime rt) {
        this.rt = rt;
    }

    void serveOn(StreamingServer s) {
        this.server = s;
    }

    private StreamingServer server() {
        StreamingServer s = server;
        if (s == null) {
            throw new FailedPreconditionException("the streaming server is not running");
        }
        return s;
    }

    // ----- the RPCs -----

    ExecResponse exec(ExecRequest r) {
        CriRuntime.checkOpen(rt.closed);
        CriContainers.Ctr c = running(r.getContainerId());
        if (r.getCmdCount() == 0) {
            throw new InvalidArgumentException("Exec needs a command");
        }
        checkStreams(r.getTty(), r.getStdin(), r.getStdout(), r.getStderr());
        StreamingServer s = server();
        StreamRequest.Exec request = new StreamRequest.Exec(c.id, r.getCmdList(), r.getTty(), r.getStdin(),
                r.getStdout(), r.getStderr());
        String url = s.url(request);
        if (fastExec) {
            prepare(c, request, s.tokenTtl());
        }
        return ExecResponse.newBuilder().setUrl(url).build();
    }

    AttachResponse attach(AttachRequest r) {
        CriRuntime.checkOpen(rt.closed);
        CriContainers.Ctr c = running(r.getContainerId());
        checkStreams(r.getTty(), r.getStdin(), r.getStdout(), r.getStderr());
        if (r.getStdin() && c.io.stdin == null) {
            throw new FailedPreconditionException("container " + c.id + " was not created with stdin");
        }
        String url = server().url(new StreamRequest.Attach(c.id, r.getTty(), r.getStdin(), r.getStdout(),
                r.getStderr()));
        return AttachResponse.newBuilder().setUrl(url).build();
    }

    PortForwardResponse portForward(PortForwardRequest r) {
        CriRuntime.checkOpen(rt.closed);
        PodSandboxes.Pod pod = rt.requirePod(r.getPodSandboxId());
        if (!pod.ready()) {
            throw new FailedPreconditionException("pod sandbox " + pod.id + " is not ready");
        }
        List<Integer> ports = new ArrayList<>();
        for (int p : r.getPortList()) {
            if (p < 1 || p > 65535) {
                throw new InvalidArgumentException("port-forward port out of range: " + p);
            }
            ports.add(p);
        }
        String url = server().url(new StreamRequest.PortForward(pod.id, ports));
        return PortForwardResponse.newBuilder().setUrl(url).build();
    }

    private static void checkStreams(boolean tty, boolean stdin, boolean stdout, boolean stderr) {
        if (!stdin && !stdout && !stderr) {
            throw new InvalidArgumentException("one of stdin, stdout and stderr must be streamed");
        }
        if (tty && stderr) {
            throw new InvalidArgumentException("tty and stderr cannot both be true (a terminal has one output)");
        }
    }

    private CriContainers.Ctr running(String id) {
        CriContainers.Ctr c = rt.requireContainer(id);
        Task t = c.task;
        if (t == null || !t.isAlive()) {
            throw new FailedPreconditionException("container " + c.id + " is not running");
        }
        return c;
    }

    // ----- what the streaming server calls -----

    // ----- prepared execs -----

    /**
     * An exec created in the shim (spec, FIFOs, output pumps, the shim's {@code Exec}, its {@code Wait}) while
     * the client connects and upgrades, with streams bound once the client's are there. Nothing runs before
     * that: {@code Start} (the {@code runc exec}) waits for the streams, as without preparing.
     */
    private final class Prepared {
        final StreamRequest.Exec request;
        final LateStreams.Input stdin;
        final LateStreams.Output stdout;
        final LateStreams.Output stderr;
        final CompletableFuture<ExecProcess> process = new CompletableFuture<>();
        /** Set by whoever takes the exec: the stream (to start it) or the expiry (to drop it). */
        final AtomicBoolean taken = new AtomicBoolean();

        Prepared(StreamRequest.Exec r) {
            this.request = r;
            this.stdin = r.stdin() ? new LateStreams.Input() : null;
            this.stdout = r.stdout() ? new LateStreams.Output() : null;
            this.stderr = r.stderr() && !r.tty() ? new LateStreams.Output() : null;
        }

        /** Drops an exec no stream came for: unblocks its pumps and removes it from the shim. */
        void discard() {
            for (LateStreams.Output o : new LateStreams.Output[] {stdout, stderr}) {
                if (o != null) {
                    o.discard();
                }
            }
            if (stdin != null) {
                stdin.discard();
            }
            process.thenAccept(p -> {
                try {
                    p.delete();
                } catch (RuntimeException e) {
                    LOG.debug("dropping prepared exec {}: {}", p.execId(), e.toString());
                } finally {
                    p.close();
                }
            });
        }
    }

    private void prepare(CriContainers.Ctr c, StreamRequest.Exec r, java.time.Duration ttl) {
        Prepared pr = new Prepared(r);
        synchronized (prepared) {
            if (prepared.size() >= MAX_PREPARED) {
                return; // a burst of URLs nobody uses yet: the rest exec the plain way
            }
            prepared.put(r, pr);
        }
        try {
            rt.exits.execute(() -> {
                try {
                    pr.process.complete(create(c, r, pr.stdin, pr.stdout, pr.stderr));
                } catch (RuntimeException e) {
                    pr.process.completeExceptionally(e);
                }
            });
            CompletableFuture.delayedExecutor(ttl.toMillis() + 1000, java.util.concurrent.TimeUnit.MILLISECONDS,
                    rt.exits).execute(() -> dropPrepared(r));
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            dropPrepared(r);
        }
    }

    /** Drops the prepared exec of {@code r} unless a stream took it. */
    private void dropPrepared(StreamRequest.Exec r) {
        Prepared pr;
        synchronized (prepared) {
            pr = prepared.remove(r);
        }
        if (pr != null && pr.taken.compareAndSet(false, true)) {
            pr.discard();
        }
    }

    /** Drops every prepared exec (the runtime closes). */
    void dropPrepared() {
        List<StreamRequest.Exec> all;
        synchronized (prepared) {
            all = new ArrayList<>(prepared.keySet());
        }
        all.forEach(this::dropPrepared);
    }

    private ExecProcess create(CriContainers.Ctr c, StreamRequest.Exec r, InputStream stdin, OutputStream stdout,
                               OutputStream stderr) {
        return c.task.exec(ExecConfig.builder("stream-" + CriRuntime.newId().substring(0, 16))
                .args(r.cmd()).terminal(r.tty()).stdio(Stdio.of(stdin, stdout, r.tty() ? null : stderr)).build());
    }

    /** The exec {@link #prepare} created for {@code r} with these streams bound, or null (create it now). */
    private ExecProcess takePrepared(StreamRequest.Exec r, InputStream stdin, OutputStream stdout,
                                     OutputStream stderr) {
        Prepared pr;
        synchronized (prepared) {
            pr = prepared.remove(r);
        }
        if (pr == null || !pr.taken.compareAndSet(false, true)) {
            return null;
        }
        ExecProcess p;
        try {
            p = pr.process.join();
        } catch (java.util.concurrent.CompletionException e) {
            LOG.debug("prepared exec for {} failed ({}); creating it again", r.containerId(), e.getCause().toString());
            pr.discard();
            return null;
        }
        if (pr.stdin != null) {
            pr.stdin.bind(stdin);
        }
        if (pr.stdout != null) {
            pr.stdout.bind(stdout);
        }
        if (pr.stderr != null) {
            pr.stderr.bind(stderr);
        }
        StepTimes.mark("exec-prepared");
        return p;
    }

    @Override
    public Session exec(StreamRequest.Exec r, InputStream stdin, OutputStream stdout, OutputStream stderr) {
        CriContainers.Ctr c = running(r.containerId());
        ExecProcess prepared = takePrepared(r, stdin, stdout, stderr);
        ExecProcess p = prepared != null ? prepared : create(c, r, stdin, stdout, stderr);
        try {
            p.start();
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
        StepTimes steps = StepTimes.current();
        CompletableFuture<Void> released = new CompletableFuture<>();
        CompletableFuture<Integer> exit = p.onExit().thenApply(ExitStatus::code);
        // Deleting is a shim round trip: with fastExec on another thread, so the status does not wait for it
        // (the delete's callback would otherwise run first on the thread that delivers the exit).
        java.util.function.BiConsumer<Integer, Throwable> cleanup = (code, error) -> {
            try {
                p.delete();
            } catch (RuntimeException e) {
                LOG.debug("exec {} in {}: delete: {}", p.execId(), c.id, e.toString());
            } finally {
                p.close();
                StepTimes.markOn(steps, "exec-deleted");
                released.complete(null);
            }
        };
        if (fastExec) {
            exit.whenCompleteAsync(cleanup, task -> {
                try {
                    rt.exits.execute(task);
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    task.run();
                }
            });
        } else {
            exit.whenComplete(cleanup);
        }
        return new Session() {
            @Override
            public CompletableFuture<Integer> exit() {
                return exit;
            }

            @Override
            public CompletableFuture<Void> released() {
                return released;
            }

            @Override
            public void resize(int columns, int rows) {
                if (r.tty() && p.isAlive()) {
                    p.resizePty(columns, rows);
                }
            }

            @Override
            public void end() {
                if (p.isAlive()) {
                    try {
                        p.kill(9); // as containerd: the client went away, so does its process
                    } catch (RuntimeException e) {
                        LOG.debug("exec {} in {}: kill: {}", p.execId(), c.id, e.toString());
                    }
                }
            }
        };
    }

    @Override
    public Session attach(StreamRequest.Attach r, InputStream stdin, OutputStream stdout, OutputStream stderr) {
        CriContainers.Ctr c = running(r.containerId());
        Task t = c.task;
        ContainerIo io = c.io;
        OutputStream err = r.tty() ? null : stderr;
        io.attach(stdout, err);
        AtomicBoolean ended = new AtomicBoolean();
        if (stdin != null && io.stdin != null) {
            rt.exits.execute(() -> {
                byte[] buf = new byte[32 << 10];
                try {
                    int n;
                    while ((n = stdin.read(buf)) >= 0 && !ended.get()) {
                        io.stdin.put(java.util.Arrays.copyOf(buf, n));
                    }
                } catch (IOException e) {
                    // the client or the container went away
                }
                if (io.stdinOnce) {
                    io.stdin.closeWrite();
                }
            });
        }
        CompletableFuture<Integer> exit = c.exited.thenApply(v -> c.exitCode);
        return new Session() {
            @Override
            public CompletableFuture<Integer> exit() {
                return exit;
            }

            @Override
            public void resize(int columns, int rows) {
                if (r.tty() && t.isAlive()) {
                    t.resizePty(columns, rows);
                }
            }

            @Override
            public void end() {
                if (ended.compareAndSet(false, true)) {
                    io.detach(stdout, err);
                    if (io.stdinOnce && io.stdin != null) {
                        io.stdin.closeWrite();
                    }
                }
            }
        };
    }

    /** bash opens the connection ({@code /dev/tcp}), holds it as fd 3 and waits for its stdin to end. */
    @Override
    public List<String> portConnector(String sandboxId, int port) {
        PodSandboxes.Pod pod = rt.requirePod(sandboxId);
        if (!pod.ready()) {
            throw new FailedPreconditionException("pod sandbox " + pod.id + " is not ready");
        }
        List<String> cmd = new ArrayList<>();
        if (pod.netns != null) {
            cmd.addAll(List.of("nsenter", "--net=" + pod.netns));
        }
        cmd.addAll(List.of("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/\"$1\" && echo connected && read -r _",
                "berth-port-forward", String.valueOf(port)));
        return cmd;
    }

    @Override
    public List<String> portForwardRelay(String sandboxId, int port) {
        PodSandboxes.Pod pod = rt.requirePod(sandboxId);
        if (!pod.ready()) {
            throw new FailedPreconditionException("pod sandbox " + pod.id + " is not ready");
        }
        List<String> relay = List.of("busybox", "nc", "127.0.0.1", String.valueOf(port));
        if (pod.netns == null) {
            return relay; // host network
        }
        List<String> cmd = new ArrayList<>(List.of("nsenter", "--net=" + pod.netns));
        cmd.addAll(relay);
        return cmd;
    }
}
