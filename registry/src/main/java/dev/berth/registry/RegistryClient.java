package dev.berth.registry;

import dev.berth.api.ClosedException;
import dev.berth.api.Descriptor;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.content.ContentStore;
import dev.berth.registry.internal.Engine;
import dev.berth.registry.internal.HostsConfig;
import dev.berth.registry.internal.RegistryHttp;
import dev.berth.registry.internal.StallWatchdog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client of OCI distribution registries (Docker Hub, distribution, Harbor, ...) that moves images
 * between a registry and a {@link ContentStore}: containerd's {@code remotes/docker}.
 *
 * <pre>{@code
 * try (RegistryClient registry = RegistryClient.builder(contentStore)
 *         .hostsDirectory(Path.of("/etc/containerd/certs.d"))
 *         .build()) {
 *     PullResult pulled = registry.pull("busybox:1.36", PullOptions.defaults());
 *     imageStore.create(new Image(pulled.name(), pulled.target()));
 * }
 * }</pre>
 *
 * <p>Pulls verify every blob's size and digest before it is committed, resume interrupted downloads
 * with HTTP {@code Range} requests from what the content store's ingest already holds, download at most
 * {@link Builder#maxConcurrentDownloads} blobs at a time, and fetch a blob shared by several layers or
 * images once. Registry hosts, mirrors and TLS come from containerd's {@code hosts.toml} directory
 * format. Thread-safe: one client serves any number of concurrent pulls and pushes.
 */
public final class RegistryClient implements AutoCloseable {
    private final Engine engine;
    private final RegistryHttp http;
    private final StallWatchdog watchdog;
    private final ExecutorService downloads;
    private final ExecutorService uploads;
    private final AtomicBoolean closed = new AtomicBoolean();

    private RegistryClient(Builder b) {
        this.http = new RegistryHttp(b.credentials, b.userAgent, b.requestTimeout, b.connectTimeout, b.retries,
                b.retryBackoff);
        this.watchdog = new StallWatchdog(b.stallTimeout);
        this.downloads = pool("berth-registry-download", b.maxConcurrentDownloads);
        this.uploads = pool("berth-registry-upload", b.maxConcurrentUploads);
        this.engine = new Engine(b.store, new HostsConfig(b.hostsDirectory, b.plainHttp), http, watchdog, downloads,
                uploads, b.progress, b.retries + 1);
    }

    private static ExecutorService pool(String name, int threads) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), factory);
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /** A builder for a client that stores pulled blobs in (and pushes them from) {@code store}. */
    public static Builder builder(ContentStore store) {
        return new Builder(Objects.requireNonNull(store, "store"));
    }

    /**
     * A builder for a client without a store of its own: each pull and push names one
     * ({@link PullOptions.Builder#contentStore}, {@link PushOptions.Builder#contentStore}). One such client
     * can be shared by everything that talks to registries, keeping its connections and tokens.
     */
    public static Builder builder() {
        return new Builder(null);
    }

    /**
     * Resolves {@code reference} ({@code name:tag}, {@code name@digest}; normalized as Docker does) to the
     * descriptor of its index or manifest, asking hosts with the resolve capability in order.
     *
     * @throws dev.berth.api.NotFoundException naming the reference if no host knows it
     * @throws RegistryAuthException if the registry refuses the credentials or access
     * @throws dev.berth.api.UnavailableException if no host can be reached
     * @throws InvalidArgumentException if the reference is malformed
     */
    public Resolved resolve(String reference) {
        ensureOpen();
        return engine.resolve(reference);
    }

    /**
     * Pulls {@code reference} into the content store: the index or manifest, the chosen platform
     * manifests, their configs and layers. With an {@link PullOptions#unpacker()}, each platform manifest
     * is unpacked while its layers download: layer i is applied as soon as it has arrived and layer i-1
     * is applied. Blobs already stored are not fetched again. When the content store keeps labels,
     * parents get containerd's {@code containerd.io/gc.ref.content.*} labels and every blob
     * {@code containerd.io/distribution.source.<registry>=<repository>}.
     *
     * <p>On failure nothing unverified is committed; partial downloads stay as ingests, and the next pull
     * resumes them.
     *
     * @throws TransferStalledException if a blob made no progress for the stall timeout
     */
    public PullResult pull(String reference, PullOptions options) {
        ensureOpen();
        return engine.pull(reference, options);
    }

    /**
     * Pushes the image {@code target} (an index or manifest in the content store, with everything it
     * references) to {@code reference}: blobs the registry lacks (mounting them from another repository of
     * the same registry when a {@code distribution.source} label names one), then manifests children
     * first, the root last under the reference's tag (or digest).
     *
     * <p>Transient failures (network errors, timeouts, HTTP 429, 500, 502, 503, 504) are retried
     * {@link Builder#retries} times with the client's back-off, longer when the registry sends
     * {@code Retry-After}: a broken blob upload starts over in a new upload session (its progress restarts
     * at 0), a manifest {@code PUT} is simply repeated. Other answers fail the push at once. The registry checks each blob against the
     * digest of its closing {@code PUT}, so a broken upload never stores wrong bytes, and manifests go up
     * only after every blob has, so a failed push leaves no manifest naming a missing blob.
     *
     * @throws dev.berth.api.NotFoundException if a blob of the image is not in the content store, or the
     *         registry does not know the repository
     * @throws RegistryAuthException if the registry refuses the credentials or access
     * @throws dev.berth.api.UnavailableException naming the blob or manifest and the registry when a
     *         transient failure persists through every attempt
     * @throws InvalidArgumentException if the registry rejects a blob or manifest as invalid (HTTP 400)
     */
    public void push(String reference, Descriptor target, PushOptions options) {
        ensureOpen();
        engine.push(reference, target, options);
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new ClosedException("registry client");
        }
    }

    /** Stops the transfer threads and forgets cached tokens. Idempotent; does not close the content store. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            downloads.shutdownNow();
            uploads.shutdownNow();
            watchdog.close();
            http.close();
        }
    }

    /** Options of a {@link RegistryClient}. Each setter checks its argument at once. Not thread-safe. */
    public static final class Builder {
        private final ContentStore store;
        private Path hostsDirectory;
        private boolean plainHttp;
        private Credentials credentials = Credentials.dockerConfig();
        private ProgressListener progress = ProgressListener.NONE;
        private int maxConcurrentDownloads = 3;
        private int maxConcurrentUploads = 3;
        private Duration stallTimeout = Duration.ofSeconds(60);
        private Duration requestTimeout = Duration.ofSeconds(60);
        private Duration connectTimeout = Duration.ofSeconds(30);
        private int retries = 3;
        private Duration retryBackoff = Duration.ofMillis(200);
        private String userAgent = "berth/" + version();

        private Builder(ContentStore store) {
            this.store = store;
        }

        private static String version() {
            String v = RegistryClient.class.getPackage().getImplementationVersion();
            return v == null ? "dev" : v;
        }

        /**
         * containerd's registry {@code config_path}: a directory of {@code <host>/hosts.toml} files (and
         * Docker {@code certs.d} style certificates). Unset: defaults only.
         */
        public Builder hostsDirectory(Path dir) {
            this.hostsDirectory = Objects.requireNonNull(dir, "hostsDirectory");
            return this;
        }

        /** Use plain HTTP for hosts without a configured scheme ({@code ctr --plain-http}). Loopback always is. */
        public Builder plainHttp(boolean plain) {
            this.plainHttp = plain;
            return this;
        }

        /** Where credentials come from (default: {@link Credentials#dockerConfig()}). */
        public Builder credentials(Credentials newCredentials) {
            this.credentials = Objects.requireNonNull(newCredentials, "credentials");
            return this;
        }

        /** The listener for pulls and pushes whose options name none. */
        public Builder progress(ProgressListener listener) {
            this.progress = Objects.requireNonNull(listener, "progress");
            return this;
        }

        /** Blobs downloaded at once across all pulls of this client (default 3, containerd's). */
        public Builder maxConcurrentDownloads(int n) {
            this.maxConcurrentDownloads = positive("maxConcurrentDownloads", n);
            return this;
        }

        /** Blobs uploaded at once across all pushes of this client (default 3). */
        public Builder maxConcurrentUploads(int n) {
            this.maxConcurrentUploads = positive("maxConcurrentUploads", n);
            return this;
        }

        /** A blob download that receives nothing for this long is aborted (default 60 s). */
        public Builder stallTimeout(Duration timeout) {
            this.stallTimeout = positive("stallTimeout", timeout);
            return this;
        }

        /** How long to wait for a response's headers (default 60 s). */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = positive("requestTimeout", timeout);
            return this;
        }

        /** How long to wait for a TCP/TLS connection (default 30 s). */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive("connectTimeout", timeout);
            return this;
        }

        /**
         * How often a request that failed transiently (network error, timeout, HTTP 429, 500, 502-504) is
         * retried: GET, HEAD and manifest PUT requests are repeated, a broken blob download is resumed, a
         * broken blob upload starts over in a new upload session (default 3).
         */
        public Builder retries(int n) {
            if (n < 0) {
                throw new InvalidArgumentException("retries must be >= 0, got " + n);
            }
            this.retries = n;
            return this;
        }

        /**
         * First back-off between retries; it doubles per retry up to 5 s, and a registry's
         * {@code Retry-After} may raise it up to 10 s (default 200 ms).
         */
        public Builder retryBackoff(Duration backoff) {
            if (backoff == null || backoff.isNegative()) {
                throw new InvalidArgumentException("retryBackoff must be >= 0, got " + backoff);
            }
            this.retryBackoff = backoff;
            return this;
        }

        /** The User-Agent header (default {@code berth/<version>}). */
        public Builder userAgent(String agent) {
            if (agent == null || agent.isBlank()) {
                throw new InvalidArgumentException("userAgent must not be blank");
            }
            this.userAgent = agent;
            return this;
        }

        public RegistryClient build() {
            return new RegistryClient(this);
        }

        private static int positive(String option, int n) {
            if (n <= 0) {
                throw new InvalidArgumentException(option + " must be > 0, got " + n);
            }
            return n;
        }

        private static Duration positive(String option, Duration d) {
            if (d == null || d.isZero() || d.isNegative()) {
                throw new InvalidArgumentException(option + " must be a positive duration, got " + d);
            }
            return d;
        }
    }
}
