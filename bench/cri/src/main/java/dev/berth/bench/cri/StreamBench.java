package dev.berth.bench.cri;

import dev.berth.cri.internal.proto.ExecRequest;
import dev.berth.cri.internal.proto.PodSandboxConfig;
import dev.berth.cri.internal.proto.PortForwardRequest;
import dev.berth.cri.internal.proto.RemovePodSandboxRequest;
import dev.berth.cri.internal.proto.RunPodSandboxRequest;
import dev.berth.cri.internal.proto.StopPodSandboxRequest;
import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The streaming rows of the cri workload (issue 20), through the CRI RPCs and the URL they answer, over
 * SPDY/3.1 as kubelet and crictl speak it ({@link SpdyClient}; containerd 1.6's streaming server takes
 * SPDY for both). Per side one pod whose busybox container serves {@code /tmp/www} with {@code httpd}
 * (a sparse 1 GiB file, sent with sendfile: the server is not the limit).
 * <ul>
 *   <li>cri-exec: {@code Exec} of {@code echo hi} (stdout and stderr, no stdin, no terminal), upgrade to
 *   {@code v4.channel.k8s.io}, the error, stdout and stderr streams, until stdout and the error stream ended
 *   with "hi" and the Success status. Sides alternate exec by exec; one line per exec.</li>
 *   <li>cri-portforward: {@code PortForward} to port 8080, upgrade to {@code portforward.k8s.io}, the error
 *   and data streams of one connection, {@code GET /big} (HTTP/1.0) and every byte until the data stream
 *   ends; seconds for the whole transfer, checked to carry the full body. One line per transfer.</li>
 * </ul>
 */
final class StreamBench {
    static final int PORT = 8080;

    private StreamBench() {
    }

    /** A side's pod with the server container. */
    record Target(CriBench.Side side, String podId, String containerId) {
    }

    static void run(List<CriBench.Side> sides, Path logDir, int pairs, int execsPerPair, int mib) throws Exception {
        List<Target> targets = new ArrayList<>();
        try {
            // the variant servers (berth@serialnet, berth@pps4, ...) are for the pod rows only
            for (CriBench.Side s : sides.stream().filter(x -> x.variant().isEmpty()).toList()) {
                PodSandboxConfig pod = CriBench.pod(s, logDir, "stream");
                String podId = s.rt().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(pod).build())
                        .getPodSandboxId();
                targets.add(new Target(s, podId, null));
                String id = CriBench.startContainer(s, podId, pod, "sh", "-c",
                        "mkdir -p /tmp/www && truncate -s " + mib + "M /tmp/www/big && truncate -s 16M /tmp/www/small"
                                + " && exec httpd -f -p " + PORT + " -h /tmp/www");
                targets.set(targets.size() - 1, new Target(s, podId, id));
            }
            for (Target t : targets) { // warm-up, and the server must be listening
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (true) {
                    try {
                        portForward(t, "/small", 16L << 20);
                        break;
                    } catch (RuntimeException e) {
                        if (System.nanoTime() > deadline) {
                            throw e;
                        }
                        Thread.sleep(200);
                    }
                }
                for (int i = 0; i < 3; i++) {
                    exec(t, new long[4]);
                }
            }
            for (int p = 0; p < pairs; p++) {
                for (int i = 0; i < execsPerPair; i++) {
                    for (int k = 0; k < targets.size(); k++) {
                        Target t = targets.get((p + i + k) % targets.size());
                        long[] phases = new long[4];
                        CriBench.report("cri-exec", t.side(), exec(t, phases));
                        CriBench.report("cri-exec-rpc", t.side(), phases[0]);
                        CriBench.report("cri-exec-upgrade", t.side(), phases[1]);
                        CriBench.report("cri-exec-firstbyte", t.side(), phases[2]);
                        CriBench.report("cri-exec-status", t.side(), phases[3]);
                    }
                }
                for (int k = 0; k < targets.size(); k++) {
                    Target t = targets.get((p + k) % targets.size());
                    long nanos = portForward(t, "/big", (long) mib << 20);
                    System.err.printf("bench: %s: port-forward %d MiB in %.2f s = %.0f MB/s%n", t.side().name(), mib,
                            nanos / 1e9, (mib * 1048576.0 / 1e6) / (nanos / 1e9));
                    CriBench.report("cri-portforward", t.side(), nanos);
                }
            }
        } finally {
            for (Target t : targets) {
                t.side().rt().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(t.podId()).build());
                t.side().rt().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(t.podId()).build());
            }
        }
    }

    /** Collects a stream's bytes (up to a cap) and notes its end. */
    static final class Collect implements SpdyClient.Sink {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CompletableFuture<Void> ended = new CompletableFuture<>();
        final AtomicLong count = new AtomicLong();
        /** System.nanoTime() of the first byte, 0 until one came. */
        volatile long first;
        private final int keep;

        Collect(int keep) {
            this.keep = keep;
        }

        @Override
        public void data(ByteBuf b) {
            int n = b.readableBytes();
            if (first == 0 && n > 0) {
                first = System.nanoTime();
            }
            long before = count.getAndAdd(n);
            if (before < keep) {
                int take = (int) Math.min(n, keep - before);
                byte[] a = new byte[take];
                b.getBytes(b.readerIndex(), a);
                synchronized (bytes) {
                    bytes.writeBytes(a);
                }
            }
        }

        @Override
        public void end() {
            ended.complete(null);
        }

        String text() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }

        void await(String what) {
            try {
                ended.get(2, TimeUnit.MINUTES);
            } catch (Exception e) {
                throw new IllegalStateException(what + " did not end: " + e, e);
            }
        }
    }

    /**
     * One {@code echo hi} through Exec and the streaming server; nanoseconds. {@code phases} gets the
     * nanoseconds of the Exec RPC, of the upgrade, and from the exec's start to the first byte of stdout and
     * to the status on the error stream (context rows: where the time goes, as seen by the client).
     */
    static long exec(Target t, long[] phases) {
        long t0 = System.nanoTime();
        String url = t.side().rt().exec(ExecRequest.newBuilder().setContainerId(t.containerId())
                .addCmd("echo").addCmd("hi").setStdout(true).setStderr(true).build()).getUrl();
        phases[0] = System.nanoTime() - t0;
        try (SpdyClient c = SpdyClient.open(url, "v4.channel.k8s.io")) {
            phases[1] = System.nanoTime() - t0 - phases[0];
            Collect error = new Collect(4096);
            Collect out = new Collect(4096);
            Collect err = new Collect(4096);
            c.stream(Map.of("streamType", "error"), true, error);
            c.stream(Map.of("streamType", "stdout"), true, out);
            c.stream(Map.of("streamType", "stderr"), true, err);
            out.await(t.side().name() + ": exec stdout");
            error.await(t.side().name() + ": exec error stream");
            long nanos = System.nanoTime() - t0;
            phases[2] = out.first - t0;
            phases[3] = error.first - t0;
            if (!out.text().equals("hi\n") || !error.text().contains("\"Success\"")) {
                throw new IllegalStateException(t.side().name() + ": exec answered stdout " + out.text().strip()
                        + ", status " + error.text() + ", stderr " + err.text());
            }
            return nanos;
        }
    }

    /** GET {@code path} through a port-forward and reads the whole answer; nanoseconds of the transfer. */
    static long portForward(Target t, String path, long bodyBytes) {
        String url = t.side().rt().portForward(PortForwardRequest.newBuilder().setPodSandboxId(t.podId())
                .addPort(PORT).build()).getUrl();
        try (SpdyClient c = SpdyClient.open(url, "portforward.k8s.io")) {
            Collect error = new Collect(4096);
            Collect data = new Collect(4096);
            Map<String, String> h = new LinkedHashMap<>();
            h.put("port", String.valueOf(PORT));
            h.put("requestID", "0");
            h.put("streamType", "error");
            c.stream(h, true, error);
            h.put("streamType", "data");
            int id = c.stream(h, false, data);
            long t0 = System.nanoTime();
            c.send(id, ("GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            data.await(t.side().name() + ": port-forward data stream");
            long nanos = System.nanoTime() - t0;
            String head = data.text();
            int end = head.indexOf("\r\n\r\n");
            long body = end < 0 ? -1 : data.count.get() - end - 4;
            if (!head.startsWith("HTTP/1.") || !head.contains(" 200 ") || body != bodyBytes) {
                throw new IllegalStateException(t.side().name() + ": port-forward got " + data.count.get()
                        + " bytes, body " + body + " of " + bodyBytes + "; head " + head.lines().findFirst().orElse("")
                        + "; error stream: " + error.text());
            }
            return nanos;
        }
    }
}
