package dev.berth.cri.internal;

import dev.berth.Berth;
import dev.berth.Namespace;
import dev.berth.RegistryAccess;
import dev.berth.api.ClosedException;
import dev.berth.api.IoFailureException;
import dev.berth.api.oci.runtime.LinuxNamespace;
import dev.berth.api.oci.runtime.Spec;
import dev.berth.api.task.Task;
import dev.berth.cri.internal.proto.CgroupDriver;
import dev.berth.cri.internal.streaming.StreamingServer;
import dev.berth.cri.internal.proto.LinuxRuntimeConfiguration;
import dev.berth.cri.internal.proto.RuntimeCondition;
import dev.berth.cri.internal.proto.RuntimeConfigRequest;
import dev.berth.cri.internal.proto.RuntimeConfigResponse;
import dev.berth.cri.internal.proto.RuntimeStatus;
import dev.berth.cri.internal.proto.StatusRequest;
import dev.berth.cri.internal.proto.StatusResponse;
import dev.berth.cri.internal.proto.UpdateRuntimeConfigRequest;
import dev.berth.cri.internal.proto.UpdateRuntimeConfigResponse;
import dev.berth.cri.internal.proto.VersionRequest;
import dev.berth.cri.internal.proto.VersionResponse;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CRI RuntimeService over one Berth namespace: version, status and runtime config here, pod
 * sandboxes in {@link PodSandboxes}, containers in {@link CriContainers}. Thread-safe.
 */
public final class CriRuntime extends CriContainers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CriRuntime.class);
    static final String VERSION = "0.1.0";

    /**
     * What the server was built with; {@code podsPerShim} pods (their sandboxes and containers) share one
     * runc shim (1: a shim per pod, as containerd's CRI).
     */
    public record Settings(String namespace, Path cniConfDir, List<Path> cniPluginDirs, Duration cniTimeout,
                           Path stateDir, RegistryAccess registry, int podsPerShim) {
        public Settings {
            if (podsPerShim < 1) {
                throw new dev.berth.api.InvalidArgumentException("pods per shim must be at least 1: " + podsPerShim);
            }
        }
    }

    private volatile String podCidr = "";
    private final CriStreams streams = new CriStreams(this);
    private volatile StreamingServer streaming;

    private CriRuntime(Berth berth, Settings settings, Namespace ns, ExecutorService exits) {
        super(berth, settings, ns, exits);
    }

    /** Opens the runtime and recovers the pods and containers an earlier server left. */
    public static CriRuntime start(Berth berth, Settings settings) {
        Namespace ns = berth.namespace(settings.namespace());
        AtomicInteger n = new AtomicInteger();
        ExecutorService exits = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "berth-cri-exit-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        CriRuntime rt = new CriRuntime(berth, settings, ns, exits);
        try {
            Files.createDirectories(settings.stateDir());
            rt.recover();
            if (PodShims.WARM_SHIM && settings.podsPerShim() > 1) {
                ns.tasks().prepareShim(); // the first pod's shim, launched ahead (PodShims.WarmShims)
            }
        } catch (IOException e) {
            rt.close();
            throw IoFailureException.of("cannot create " + settings.stateDir(), e);
        } catch (RuntimeException e) {
            rt.close();
            throw e;
        }
        return rt;
    }

    public VersionResponse version(VersionRequest request) {
        return VersionResponse.newBuilder().setVersion("0.1.0").setRuntimeName("berth").setRuntimeVersion(VERSION)
                .setRuntimeApiVersion("v1").build();
    }

    public StatusResponse status(StatusRequest request) {
        boolean network = cni.conflist().isPresent();
        RuntimeCondition.Builder net = RuntimeCondition.newBuilder().setType("NetworkReady").setStatus(network);
        if (!network) {
            net.setReason("NetworkPluginNotReady").setMessage("no CNI network configuration in " + cni.confDir());
        }
        StatusResponse.Builder out = StatusResponse.newBuilder().setStatus(RuntimeStatus.newBuilder()
                .addConditions(RuntimeCondition.newBuilder().setType("RuntimeReady").setStatus(true))
                .addConditions(net));
        out.addRuntimeHandlersBuilder().setName("");
        if (request.getVerbose()) {
            out.putInfo("config", "{\"namespace\":\"" + ns.name() + "\",\"cniConfDir\":\"" + cni.confDir()
                    + "\",\"podCidr\":\"" + podCidr + "\"}");
        }
        return out.build();
    }

    public RuntimeConfigResponse runtimeConfig(RuntimeConfigRequest request) {
        return RuntimeConfigResponse.newBuilder().setLinux(LinuxRuntimeConfiguration.newBuilder()
                .setCgroupDriver(CgroupDriver.CGROUPFS)).build();
    }

    public UpdateRuntimeConfigResponse updateRuntimeConfig(UpdateRuntimeConfigRequest request) {
        String cidr = request.getRuntimeConfig().getNetworkConfig().getPodCidr();
        if (!cidr.isEmpty() && !cidr.equals(podCidr)) {
            LOG.info("pod CIDR is now {} (the CNI configuration in {} allocates addresses)", cidr, cni.confDir());
            podCidr = cidr;
        }
        return UpdateRuntimeConfigResponse.getDefaultInstance();
    }

    /** Serves Exec, Attach and PortForward streams on {@code settings}' address; closed with the runtime. */
    public InetSocketAddress serveStreams(StreamingServer.Settings settings) {
        StreamingServer s = StreamingServer.start(settings, streams);
        streaming = s;
        streams.serveOn(s);
        return s.address();
    }

    /** See {@link StreamingServer#bytesInFlight()}; 0 without a streaming server. */
    public long streamBytesInFlight() {
        StreamingServer s = streaming;
        return s == null ? 0 : s.bytesInFlight();
    }

    CriStreams streams() {
        return streams;
    }

    CriEvents events() {
        return events;
    }

    public CriImages images() {
        return images;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        awaitBackground(java.time.Duration.ofSeconds(60)); // removals the kubelet no longer sees finish first
        StreamingServer s = streaming;
        if (s != null) {
            s.close();
        }
        streams.dropPrepared();
        events.close();
        cni.close();
        exits.shutdown(); // no exit is recorded once the tasks are let go below
        for (CriContainers.Ctr c : containers.values()) {
            // stop reading the output FIFOs before the log closes: what the container writes from here on
            // waits in them for the next server instead of being read into a closed log
            Task t = c.task;
            if (t != null) {
                t.close();
            }
            c.closeLog();
        }
    }

    // ----- helpers shared by sandboxes and containers -----

    static long nanos(Instant t) {
        return t == null ? 0 : t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    static Instant instant(String nanos) {
        if (nanos == null || nanos.isEmpty()) {
            return null;
        }
        long n = Long.parseLong(nanos);
        return Instant.ofEpochSecond(n / 1_000_000_000L, n % 1_000_000_000L);
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    static String newId() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /**
     * Drops the default spec's mounts at {@code destinations} (of the default's type there: a bind mount the
     * caller put there stays), e.g. the {@code /run} tmpfs that containerd's CRI leaves out of pods' specs.
     */
    static UnaryOperator<Spec> withoutDefaultMounts(String... destinations) {
        List<String> dropped = List.of(destinations);
        return spec -> {
            if (spec.mounts() == null) {
                return spec;
            }
            List<dev.berth.api.oci.runtime.Mount> kept = new ArrayList<>();
            for (dev.berth.api.oci.runtime.Mount m : spec.mounts()) {
                boolean isDefault = dev.berth.runtime.spec.DefaultSpec.MOUNTS.stream()
                        .anyMatch(d -> d.destination().equals(m.destination()) && d.type().equals(m.type()));
                if (!(isDefault && dropped.contains(m.destination()))) {
                    kept.add(m);
                }
            }
            return spec.withMounts(kept);
        };
    }

    /**
     * No rlimits in the spec: a pod's processes get the limits of the shim, i.e. of the server (its systemd
     * unit's {@code LimitNOFILE}), as with containerd's CRI, rather than Berth's default 1024 open files.
     */
    static final UnaryOperator<Spec> INHERITED_RLIMITS = spec -> spec.withProcess(spec.process().withRlimits(null));

    static UnaryOperator<Spec> withoutNamespace(String type) {
        return spec -> {
            if (spec.linux() == null || spec.linux().namespaces() == null) {
                return spec;
            }
            List<LinuxNamespace> kept = new ArrayList<>();
            for (LinuxNamespace n : spec.linux().namespaces()) {
                if (!n.type().equals(type)) {
                    kept.add(n);
                }
            }
            return spec.withLinux(spec.linux().withNamespaces(kept));
        };
    }

    /**
     * Joins the {@code type} namespace at {@code path}, unchecked: unlike {@code SpecOptions.joinNamespace}
     * the file need not exist yet (a pod's network namespace is made while its pause container is created;
     * it exists before the task is).
     */
    static UnaryOperator<Spec> withNamespaceAt(String type, String path) {
        return spec -> {
            List<LinuxNamespace> out = new ArrayList<>();
            boolean replaced = false;
            for (LinuxNamespace n : spec.linux().namespaces()) {
                if (n.type().equals(type)) {
                    out.add(new LinuxNamespace(type, path));
                    replaced = true;
                } else {
                    out.add(n);
                }
            }
            if (!replaced) {
                out.add(new LinuxNamespace(type, path));
            }
            return spec.withLinux(spec.linux().withNamespaces(out));
        };
    }

    /** The OOM score adjustment to give: {@code wanted}, but never below this process's own (no CAP_SYS_RESOURCE). */
    static int oomScoreAdj(long wanted) {
        int own = 0;
        try {
            own = Integer.parseInt(Files.readString(Path.of("/proc/self/oom_score_adj"), StandardCharsets.US_ASCII).trim());
        } catch (IOException | NumberFormatException e) {
            // assume 0
        }
        long v = Math.max(-1000, Math.min(1000, wanted));
        return (int) Math.max(v, own);
    }

    static void checkOpen(boolean closed) {
        if (closed) {
            throw new ClosedException("the CRI server is closed");
        }
    }
}
