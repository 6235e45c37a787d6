package dev.berth.cri;

import dev.berth.Berth;
import dev.berth.RegistryAccess;
import dev.berth.api.InvalidArgumentException;
import dev.berth.cri.internal.CriRuntime;
import dev.berth.cri.internal.GrpcEndpoint;
import dev.berth.cri.internal.streaming.StreamingServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import dev.berth.network.CniPlugins;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A Kubernetes CRI server ({@code runtime.v1} RuntimeService and ImageService) over a {@link Berth}, on a
 * unix socket: a kubelet started with {@code --container-runtime-endpoint unix:///run/berth/cri.sock}
 * runs its pods through it. Pods and containers are Berth containers in namespace {@value #NAMESPACE};
 * a new server over the same root takes over those an earlier one left running. Exec, Attach and
 * PortForward answer one-time URLs of a streaming HTTP server (WebSocket or SPDY/3.1, the Kubernetes stream protocols) on
 * {@link Builder#streamingAddress}. The server does not close the Berth. Thread-safe.
 */
public final class CriServer implements AutoCloseable {
    public static final Path DEFAULT_SOCKET = Path.of("/run/berth/cri.sock");
    public static final Path DEFAULT_CNI_CONF_DIR = Path.of("/etc/cni/net.d");
    public static final String NAMESPACE = "k8s.io";
    /** Streams bind loopback on a free port unless told otherwise, as containerd's CRI does. */
    public static final InetSocketAddress DEFAULT_STREAMING_ADDRESS = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    public static final Duration DEFAULT_STREAM_IDLE_TIMEOUT = Duration.ofHours(4);
    /** How long an Exec, Attach or PortForward URL stays usable (once). */
    public static final Duration STREAM_TOKEN_TTL = Duration.ofMinutes(1);
    /**
     * The system property that gives {@link Builder#podsPerShim} its default (so {@code berth cri serve}
     * takes it from {@code BERTH_JAVA_OPTS="-Dberth.cri.podsPerShim=1"}); unset: {@link #DEFAULT_PODS_PER_SHIM}.
     */
    public static final String PODS_PER_SHIM_PROPERTY = "berth.cri.podsPerShim";
    /**
     * Pods one runc shim serves by default: 8 (a shim is ~92 % of a running pod's memory with one per pod;
     * docs/cri.md, "Pods per shim", weighs this against containerd's one shim per pod). 1 is containerd's.
     */
    public static final int DEFAULT_PODS_PER_SHIM = 8;

    private final Path socket;
    private final CriRuntime runtime;
    private final GrpcEndpoint endpoint;
    private final InetSocketAddress streamingAddress;

    private CriServer(Builder b) {
        this.socket = b.socket;
        CriRuntime.Settings settings = new CriRuntime.Settings(NAMESPACE, b.cniConfDir, b.cniPluginDirs,
                b.cniTimeout, b.stateDir != null ? b.stateDir : b.berth.stateDir().resolve("cri"), b.registry,
                b.podsPerShim != 0 ? b.podsPerShim : podsPerShimProperty());
        this.runtime = CriRuntime.start(b.berth, settings);
        try {
            this.streamingAddress = runtime.serveStreams(new StreamingServer.Settings(b.streamingAddress,
                    b.tokenTtl, b.streamIdleTimeout));
            this.endpoint = GrpcEndpoint.start(socket, runtime);
        } catch (RuntimeException e) {
            runtime.close();
            throw e;
        }
    }

    private static int podsPerShimProperty() {
        String v = System.getProperty(PODS_PER_SHIM_PROPERTY);
        if (v == null || v.isBlank()) {
            return DEFAULT_PODS_PER_SHIM;
        }
        try {
            return checkPodsPerShim(Integer.parseInt(v.trim()));
        } catch (NumberFormatException e) {
            throw new InvalidArgumentException("-D" + PODS_PER_SHIM_PROPERTY + " must be a number, got \"" + v + "\"");
        }
    }

    private static int checkPodsPerShim(int n) {
        if (n < 1) {
            throw new InvalidArgumentException("pods per shim must be at least 1, got " + n);
        }
        return n;
    }

    /** A builder for a server over {@code berth} (which must stay open while the server runs). */
    public static Builder builder(Berth berth) {
        return new Builder(berth);
    }

    /** The unix socket the server listens on. */
    public Path socket() {
        return socket;
    }

    /** Where the streaming server listens (its port resolved if 0 was asked for). */
    public InetSocketAddress streamingAddress() {
        return streamingAddress;
    }

    /**
     * Bytes written to streaming clients (exec, attach, port-forward) and not yet handed to their sockets:
     * stays bounded when clients read slower than processes write, since the processes are made to wait.
     */
    public long streamBytesInFlight() {
        return runtime.streamBytesInFlight();
    }

    /** Stops serving and removes the socket; pods and containers keep running. Idempotent. */
    @Override
    public void close() {
        endpoint.close();
        runtime.close();
    }

    /** Options of a {@link CriServer}; {@link #build()} starts serving. Not thread-safe. */
    public static final class Builder {
        private final Berth berth;
        private Path socket = DEFAULT_SOCKET;
        private Path cniConfDir = DEFAULT_CNI_CONF_DIR;
        private List<Path> cniPluginDirs = CniPlugins.DEFAULT_DIRS;
        private Duration cniTimeout = CniPlugins.DEFAULT_TIMEOUT;
        private Path stateDir;
        private RegistryAccess registry = RegistryAccess.defaults();
        private InetSocketAddress streamingAddress = DEFAULT_STREAMING_ADDRESS;
        private Duration streamIdleTimeout = DEFAULT_STREAM_IDLE_TIMEOUT;
        private Duration tokenTtl = STREAM_TOKEN_TTL;
        private int podsPerShim;

        private Builder(Berth berth) {
            this.berth = Objects.requireNonNull(berth, "berth");
        }

        /** The unix socket to listen on (default {@code /run/berth/cri.sock}); a stale file there is replaced. */
        public Builder socket(Path path) {
            this.socket = absolute("socket", path);
            return this;
        }

        /**
         * Where CNI network configurations are read (default {@code /etc/cni/net.d}): the first
         * {@code .conflist}, {@code .conf} or {@code .json} file by name is the pod network, as kubelet's
         * convention has it; until one exists, Status reports NetworkReady false.
         */
        public Builder cniConfDir(Path dir) {
            this.cniConfDir = absolute("CNI conf dir", dir);
            return this;
        }

        /** Where CNI plugin binaries are looked up, in order (default {@code /opt/cni/bin}, {@code /usr/lib/cni}). */
        public Builder cniPluginDirs(List<Path> dirs) {
            if (dirs == null || dirs.isEmpty()) {
                throw new InvalidArgumentException("CNI plugin directories must not be empty");
            }
            this.cniPluginDirs = List.copyOf(dirs);
            return this;
        }

        /** How long one CNI plugin may run before it is killed (default 30 s). */
        public Builder cniPluginTimeout(Duration timeout) {
            this.cniTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * Where pod files live while pods exist: network namespace files, {@code resolv.conf},
         * {@code hostname}, {@code hosts} (default {@code <berth state dir>/cri}).
         */
        public Builder stateDir(Path dir) {
            this.stateDir = absolute("state dir", dir);
            return this;
        }

        /** How PullImage reaches registries (plain HTTP, hosts directory); the request's AuthConfig is added. */
        public Builder registry(RegistryAccess access) {
            this.registry = Objects.requireNonNull(access, "access");
            return this;
        }

        /**
         * Where the streaming server (Exec, Attach, PortForward URLs) listens; default loopback on a free
         * port. Only the kubelet (or a client on this host) should reach it: anyone holding a URL gets a shell.
         */
        public Builder streamingAddress(InetSocketAddress address) {
            this.streamingAddress = Objects.requireNonNull(address, "address");
            if (address.isUnresolved()) {
                throw new InvalidArgumentException("streaming address must be resolved: " + address);
            }
            return this;
        }

        /** How long a stream may carry nothing in either direction before it is closed (default 4 h). */
        public Builder streamIdleTimeout(Duration timeout) {
            positive("stream idle timeout", timeout);
            this.streamIdleTimeout = timeout;
            return this;
        }

        /** How long a streaming URL stays usable (default 1 min); each is usable once. */
        public Builder streamTokenTtl(Duration ttl) {
            positive("stream token TTL", ttl);
            this.tokenTtl = ttl;
            return this;
        }

        private static void positive(String what, Duration d) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new InvalidArgumentException(what + " must be positive: " + d);
            }
        }

        /**
         * How many pods (each its sandbox and containers) one {@code containerd-shim-runc-v2} serves
         * (default {@link CriServer#DEFAULT_PODS_PER_SHIM}, or the {@link CriServer#PODS_PER_SHIM_PROPERTY}
         * property; 1 is containerd's one shim per pod): a pod joins the oldest shim that has room, a new
         * shim starts when all are full, and a shim exits with the last task of its last pod. More pods per
         * shim cost less memory per pod, but a shim that dies takes all its pods' containers with it (they
         * are reported exited, the pods not ready), and the shim's own memory is not charged to any one
         * pod's cgroup.
         */
        public Builder podsPerShim(int n) {
            this.podsPerShim = checkPodsPerShim(n);
            return this;
        }

        /** Starts the server. */
        public CriServer build() {
            return new CriServer(this);
        }

        private static Path absolute(String what, Path p) {
            Objects.requireNonNull(p, what);
            if (!p.isAbsolute()) {
                throw new InvalidArgumentException(what + " must be an absolute path: " + p);
            }
            return p;
        }
    }
}
