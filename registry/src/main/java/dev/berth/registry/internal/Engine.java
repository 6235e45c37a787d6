package dev.berth.registry.internal;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.BerthException;
import dev.berth.api.CanceledException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import dev.berth.api.MediaTypes;
import dev.berth.api.NotFoundException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.UnavailableException;
import dev.berth.api.content.ContentStore;
import dev.berth.api.content.Info;
import dev.berth.api.content.ReaderAt;
import dev.berth.api.content.Writer;
import dev.berth.api.image.LayerGate;
import dev.berth.api.oci.image.Index;
import dev.berth.api.oci.image.Manifest;
import dev.berth.api.oci.image.OciJson;
import dev.berth.content.Content;
import dev.berth.registry.ProgressListener;
import dev.berth.registry.PullOptions;
import dev.berth.registry.PullResult;
import dev.berth.registry.PullUnpacker;
import dev.berth.registry.PushOptions;
import dev.berth.registry.RegistryAuthException;
import dev.berth.registry.Resolved;
import dev.berth.registry.internal.RegistryHost.Capability;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolve, pull and push: containerd's {@code remotes/docker} resolver, fetcher and pusher plus the
 * pull/push handlers around them. Thread-safe; several pulls and pushes may run at once and share the
 * download and upload pools.
 */
public final class Engine {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    /** Manifest types first, as containerd; {@code *}/{@code *} last for registries that know others. */
    static final String MANIFEST_ACCEPT = String.join(", ", MediaTypes.OCI_INDEX, MediaTypes.OCI_MANIFEST,
            MediaTypes.DOCKER_MANIFEST_LIST, MediaTypes.DOCKER_MANIFEST, "*/*");
    private static final long MAX_MANIFEST_BYTES = 8L << 20;
    private static final int COPY_BUFFER = 256 << 10;
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    /** The client's own store; null when every pull and push must name one. */
    private final ContentStore defaultStore;
    private final HostsConfig hostsConfig;
    private final RegistryHttp http;
    private final StallWatchdog watchdog;
    private final ExecutorService downloads;
    private final ExecutorService uploads;
    private final ProgressListener defaultProgress;
    private final int blobAttempts;

    public Engine(ContentStore store, HostsConfig hostsConfig, RegistryHttp http, StallWatchdog watchdog,
                  ExecutorService downloads, ExecutorService uploads, ProgressListener defaultProgress,
                  int blobAttempts) {
        this.defaultStore = store;
        this.hostsConfig = hostsConfig;
        this.http = http;
        this.watchdog = watchdog;
        this.downloads = downloads;
        this.uploads = uploads;
        this.defaultProgress = defaultProgress;
        this.blobAttempts = blobAttempts;
    }

    // ------------------------------------------------------------------ resolve

    public Resolved resolve(String reference) {
        Reference ref = Reference.parse(reference);
        Descriptor target = resolve(ref, hostsConfig.hosts(ref.domain()));
        return new Resolved(ref.toString(), target);
    }

    private Descriptor resolve(Reference ref, List<RegistryHost> hosts) {
        List<RegistryHost> resolvers = hosts.stream().filter(h -> h.can(Capability.RESOLVE)).toList();
        if (resolvers.isEmpty()) {
            throw new FailedPreconditionException("no host configured for " + ref.domain()
                    + " may resolve references (capabilities)");
        }
        BerthException firstError = null;
        for (RegistryHost host : resolvers) {
            try {
                Descriptor d = resolveOn(ref, host);
                if (d != null) {
                    return d;
                }
            } catch (RegistryAuthException | UnavailableException e) {
                LOG.debug("resolving {} on {} failed: {}", ref, host, e.getMessage());
                if (firstError == null) {
                    firstError = e;
                }
            }
        }
        if (firstError != null) {
            throw firstError;
        }
        throw new NotFoundException("image " + ref + " not found: " + ref.object() + " is unknown to "
                + hostList(resolvers));
    }

    /** The target on {@code host}, or null on 404. */
    private Descriptor resolveOn(Reference ref, RegistryHost host) {
        URI uri = host.uri(ref.path(), "manifests/" + ref.object(), ns(host, ref));
        Call head = new Call(host, ref.domain(), "HEAD", uri, Map.of("Accept", MANIFEST_ACCEPT), null,
                List.of(RegistryHttp.scope(ref.path(), false)), "manifest " + ref);
        Digest digest = ref.digest();
        String mediaType = null;
        long size = -1;
        try (Exchange ex = http.send(head)) {
            if (ex.status() == 404) {
                return null;
            }
            if (ex.status() != 200) {
                throw RegistryHttp.failure(ex, head, "resolving " + ref);
            }
            mediaType = mediaType(ex.header("Content-Type").orElse(null));
            size = ex.contentLength().orElse(-1);
            if (digest == null) {
                digest = ex.header("Docker-Content-Digest").map(Engine::parseDigestHeader).orElse(null);
            }
        }
        if (digest != null && size > 0 && mediaType != null && isKnownManifestType(mediaType)) {
            return new Descriptor(mediaType, digest, size);
        }
        // the HEAD did not tell everything: fetch the manifest and hash it
        Call get = new Call(host, ref.domain(), "GET", uri, Map.of("Accept", MANIFEST_ACCEPT), null,
                head.scopes(), "manifest " + ref);
        try (Exchange ex = http.send(get)) {
            if (ex.status() == 404) {
                return null;
            }
            if (ex.status() != 200) {
                throw RegistryHttp.failure(ex, get, "resolving " + ref);
            }
            byte[] bytes = ex.readAll(MAX_MANIFEST_BYTES);
            Digest actual = Digest.of(digest == null ? Digest.SHA256 : digest.algorithm(), bytes);
            if (digest != null && !digest.equals(actual)) {
                throw new FailedPreconditionException("manifest " + ref + " from " + host + " hashes to " + actual
                        + ", not " + digest);
            }
            String type = mediaType(ex.header("Content-Type").orElse(null));
            if (type == null || !isKnownManifestType(type)) {
                type = sniffMediaType(bytes, ref);
            }
            return new Descriptor(type, actual, bytes.length);
        } catch (IOException e) {
            throw new UnavailableException("resolving " + ref + " on " + host + ": " + e, e);
        }
    }

    private static boolean isKnownManifestType(String mediaType) {
        return MediaTypes.isIndex(mediaType) || MediaTypes.isManifest(mediaType);
    }

    private static String sniffMediaType(byte[] bytes, Reference ref) {
        try {
            var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(bytes);
            String declared = node.path("mediaType").asText("");
            if (!declared.isEmpty()) {
                return declared;
            }
            if (node.has("manifests")) {
                return MediaTypes.OCI_INDEX;
            }
            if (node.has("config") && node.has("layers")) {
                return MediaTypes.OCI_MANIFEST;
            }
        } catch (IOException e) {
            // fall through
        }
        throw new NotImplementedException("manifest of " + ref + " has an unknown media type");
    }

    private static String mediaType(String contentType) {
        if (contentType == null) {
            return null;
        }
        int semi = contentType.indexOf(';');
        String t = (semi < 0 ? contentType : contentType.substring(0, semi)).trim();
        return t.isEmpty() ? null : t;
    }

    private static Digest parseDigestHeader(String value) {
        try {
            return Digest.parse(value.trim());
        } catch (InvalidArgumentException e) {
            return null;
        }
    }

    private static String ns(RegistryHost host, Reference ref) {
        return host.isMirrorFor(ref.domain()) ? ref.domain() : null;
    }

    private static String hostList(List<RegistryHost> hosts) {
        return hosts.stream().map(RegistryHost::toString).reduce((a, b) -> a + ", " + b).orElse("no hosts");
    }

    // ------------------------------------------------------------------ pull

    public PullResult pull(String reference, PullOptions options) {
        Objects.requireNonNull(options, "options");
        Reference ref = Reference.parse(reference);
        ContentStore store = storeFor(options.contentStore(), "pull " + ref);
        List<RegistryHost> hosts = hostsConfig.hosts(ref.domain());
        ProgressListener progress = options.progress() != null ? options.progress() : defaultProgress;
        Descriptor target = resolve(ref, hosts);
        String name = ref.toString();
        progress.resolved(name, target);
        PullRun run = new PullRun(store, ref, hosts.stream().filter(h -> h.can(Capability.PULL)).toList(), progress,
                options.unpacker() != null && Boolean.parseBoolean(System.getProperty(STREAM_UNPACK_PROPERTY, "true")));
        if (run.hosts.isEmpty()) {
            throw new FailedPreconditionException("no host configured for " + ref.domain() + " may pull");
        }
        List<Descriptor> manifests = new ArrayList<>();
        try {
            run.handle(target, options, manifests);
            if (options.unpacker() != null) {
                unpackWhileFetching(run, name, manifests, options.unpacker());
            }
            run.awaitBlobs();
        } finally {
            run.awaitQuietly();
        }
        progress.done(name, target);
        return new PullResult(name, target, manifests, run.bytesFetched.get());
    }

    /**
     * Unpacks each manifest as its blobs arrive. When the unpack fails because a download did, the
     * download's failure is what the caller sees.
     */
    private static void unpackWhileFetching(PullRun run, String name, List<Descriptor> manifests,
                                            PullUnpacker unpacker) {
        for (Descriptor m : manifests) {
            try {
                run.await(run.configs.get(m.digest()));
                unpacker.unpack(name, m, run.gate, run.progress::layerUnpacked);
            } catch (RuntimeException e) {
                RuntimeException download = run.firstFailure();
                if (download != null && download != e) {
                    download.addSuppressed(e);
                    throw download;
                }
                throw e;
            }
        }
    }

    private ContentStore storeFor(ContentStore chosen, String what) {
        ContentStore store = chosen != null ? chosen : defaultStore;
        if (store == null) {
            throw new InvalidArgumentException(what + ": the client has no content store; name one in the options");
        }
        return store;
    }

    /**
     * Set to false, a pull with an unpacker applies a layer only once its blob is stored, reading it back
     * from the content store, instead of while it downloads (the A/B switch of the pull benchmark).
     */
    static final String STREAM_UNPACK_PROPERTY = "berth.pull.streamUnpack";

    private final class PullRun {
        final ContentStore store;
        final Reference ref;
        final List<RegistryHost> hosts;
        final ProgressListener progress;
        final Map<Digest, Future<?>> blobs = new ConcurrentHashMap<>();
        /** Platform manifest digest → its config descriptor. */
        final Map<Digest, Descriptor> configs = new ConcurrentHashMap<>();
        final AtomicLong bytesFetched = new AtomicLong();
        /** False once the store turned out to keep no labels (the bare local store). */
        volatile boolean labelsSupported = true;
        /** Layer digest → the tee of its download, when layers are applied while they download. */
        final Map<Digest, BlobTee> tees = new ConcurrentHashMap<>();
        final boolean streamLayers;
        /** What the unpacker waits on: each blob's download, and each layer's bytes while it downloads. */
        final LayerGate gate = new LayerGate() {
            @Override
            public void await(Descriptor layer) {
                PullRun.this.await(layer);
            }

            @Override
            public InputStream stream(Descriptor layer) {
                BlobTee tee = tees.get(layer.digest());
                return tee == null ? null : tee.attach();
            }
        };

        PullRun(ContentStore store, Reference ref, List<RegistryHost> hosts, ProgressListener progress,
                boolean streamLayers) {
            this.store = store;
            this.ref = ref;
            this.hosts = hosts;
            this.progress = progress;
            this.streamLayers = streamLayers;
        }

        void handle(Descriptor desc, PullOptions options, List<Descriptor> manifests) {
            if (MediaTypes.isIndex(desc.mediaType())) {
                byte[] bytes = storeDocument(desc);
                Index index = OciJson.parseIndex(bytes);
                Map<String, String> labels = new LinkedHashMap<>();
                for (int i = 0; i < index.manifests().size(); i++) {
                    labels.put(Labels.GC_REF_CONTENT + ".m." + i, index.manifests().get(i).digest().toString());
                }
                label(this, desc.digest(), labels);
                List<Descriptor> chosen = choose(index, options.platforms(), options.allMatching());
                if (chosen.isEmpty()) {
                    throw new NotFoundException("image " + ref + " has no manifest for the requested platform ("
                            + options.platforms() + "); it offers " + index.manifests().stream()
                            .map(d -> d.platform() == null ? d.mediaType() : d.platform().toString()).toList());
                }
                for (Descriptor child : chosen) {
                    handle(child, options, manifests);
                }
            } else if (MediaTypes.isManifest(desc.mediaType())) {
                byte[] bytes = storeDocument(desc);
                Manifest manifest = OciJson.parseManifest(bytes);
                Map<String, String> labels = new LinkedHashMap<>();
                labels.put(Labels.GC_REF_CONTENT + ".config", manifest.config().digest().toString());
                for (int i = 0; i < manifest.layers().size(); i++) {
                    labels.put(Labels.GC_REF_CONTENT + ".l." + i, manifest.layers().get(i).digest().toString());
                }
                label(this, desc.digest(), labels);
                configs.put(desc.digest(), manifest.config());
                submit(manifest.config(), false);
                for (Descriptor layer : manifest.layers()) {
                    if (layer.urls().isEmpty() || !MediaTypes.isNonDistributable(layer.mediaType())) {
                        submit(layer, streamLayers);
                    }
                }
                manifests.add(desc);
            } else if (MediaTypes.DOCKER_MANIFEST_SCHEMA1_SIGNED.equals(desc.mediaType())) {
                throw new NotImplementedException("image " + ref + " uses Docker schema 1 manifests, which Berth "
                        + "does not convert");
            } else {
                submit(desc, false);
            }
        }

        private void submit(Descriptor blob, boolean teed) {
            blobs.computeIfAbsent(blob.digest(), d -> {
                BlobTee tee = teed ? new BlobTee(store, blob) : null;
                if (tee != null) {
                    tees.put(d, tee);
                }
                Future<?> download = downloads.submit(() -> {
                    try {
                        fetchBlob(this, blob, tee);
                    } catch (RuntimeException | Error e) {
                        if (tee != null) {
                            tee.failed(e);
                        }
                        throw e;
                    }
                });
                if (tee != null) {
                    tee.download(download);
                }
                return download;
            });
        }

        /** Returns once {@code blob} is stored (at once if this pull is not fetching it); throws its failure. */
        void await(Descriptor blob) {
            Future<?> f = blob == null ? null : blobs.get(blob.digest());
            if (f == null) {
                return;
            }
            try {
                f.get();
            } catch (ExecutionException e) {
                throw unwrap(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                blobs.values().forEach(x -> x.cancel(true));
                throw new CanceledException("pull " + ref + " interrupted", e);
            }
        }

        /** The failure of the first blob download that has failed so far, if any. */
        RuntimeException firstFailure() {
            for (Future<?> f : blobs.values()) {
                if (f.isDone() && !f.isCancelled()) {
                    try {
                        f.get();
                    } catch (ExecutionException e) {
                        return unwrap(e.getCause());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return null;
                    }
                }
            }
            return null;
        }

        private RuntimeException unwrap(Throwable cause) {
            return cause instanceof RuntimeException re ? re : new BerthException("pull " + ref + ": " + cause, cause);
        }

        /** Waits for every blob; throws the first failure (after all have stopped). */
        void awaitBlobs() {
            RuntimeException first = null;
            for (Future<?> f : blobs.values()) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    if (first == null) {
                        first = unwrap(e.getCause());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    blobs.values().forEach(x -> x.cancel(true));
                    throw new CanceledException("pull " + ref + " interrupted", e);
                }
            }
            if (first != null) {
                throw first;
            }
        }

        void awaitQuietly() {
            for (Future<?> f : blobs.values()) {
                try {
                    f.get();
                } catch (ExecutionException | java.util.concurrent.CancellationException e) {
                    // reported by awaitBlobs
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        /** Fetches a manifest or index (unless stored), verifies it and stores it; returns its bytes. */
        byte[] storeDocument(Descriptor desc) {
            if (desc.size() > MAX_MANIFEST_BYTES) {
                throw new InvalidArgumentException("manifest " + desc.digest() + " of " + ref + " claims "
                        + desc.size() + " bytes; the limit is " + MAX_MANIFEST_BYTES);
            }
            try {
                return Content.readBlob(store, desc);
            } catch (NotFoundException e) {
                // fetch it
            }
            byte[] bytes = fetchDocument(desc);
            progress.blobStarted(desc, 0);
            progress.blobProgress(desc, bytes.length);
            progress.blobDone(desc);
            Content.copy(store, refKey(desc), offset -> new ByteArrayInputStream(bytes, (int) offset,
                    bytes.length - (int) offset), desc);
            bytesFetched.addAndGet(bytes.length);
            progress.blobVerified(desc);
            return bytes;
        }

        private byte[] fetchDocument(Descriptor desc) {
            NotFoundException notFound = null;
            for (RegistryHost host : hosts) {
                URI uri = host.uri(ref.path(), "manifests/" + desc.digest(), ns(host, ref));
                Call get = new Call(host, ref.domain(), "GET", uri,
                        Map.of("Accept", desc.mediaType() + ", " + MANIFEST_ACCEPT), null,
                        List.of(RegistryHttp.scope(ref.path(), false)), "manifest " + desc.digest() + " of " + ref);
                try (Exchange ex = http.send(get)) {
                    if (ex.status() == 404) {
                        notFound = (NotFoundException) RegistryHttp.failure(ex, get, "manifest " + desc.digest()
                                + " of " + ref);
                        continue;
                    }
                    if (ex.status() != 200) {
                        throw RegistryHttp.failure(ex, get, "manifest " + desc.digest() + " of " + ref);
                    }
                    byte[] bytes = ex.readAll(desc.size());
                    verify(desc, bytes, host);
                    return bytes;
                } catch (IOException e) {
                    throw new UnavailableException("fetching manifest " + desc.digest() + " of " + ref + " from "
                            + host + ": " + e, e);
                }
            }
            throw notFound != null ? notFound : new NotFoundException("manifest " + desc.digest() + " of " + ref
                    + " not found on " + hostList(hosts));
        }
    }

    private static void verify(Descriptor desc, byte[] bytes, RegistryHost host) {
        if (bytes.length != desc.size()) {
            throw new FailedPreconditionException(desc.digest() + " from " + host + " is " + bytes.length
                    + " bytes, expected " + desc.size() + "; not stored");
        }
        Digest actual = Digest.of(desc.digest().algorithm(), bytes);
        if (!actual.equals(desc.digest())) {
            throw new FailedPreconditionException("content from " + host + " for " + desc.digest() + " hashes to "
                    + actual + "; not stored");
        }
    }

    static List<Descriptor> choose(Index index, PlatformMatcher matcher, boolean all) {
        List<Descriptor> candidates = new ArrayList<>();
        for (Descriptor d : index.manifests()) {
            if (d.platform() == null ? MediaTypes.isIndex(d.mediaType()) || MediaTypes.isManifest(d.mediaType())
                    : matcher.matches(d.platform())) {
                candidates.add(d);
            }
        }
        candidates.sort(Comparator.comparing(Descriptor::platform, Comparator.nullsLast(matcher)));
        if (!all && candidates.size() > 1) {
            return List.of(candidates.get(0));
        }
        return candidates;
    }

    /** containerd's {@code remotes.MakeRefKey}. */
    static String refKey(Descriptor desc) {
        String t = desc.mediaType();
        String kind;
        if (MediaTypes.isManifest(t)) {
            kind = "manifest";
        } else if (MediaTypes.isIndex(t)) {
            kind = "index";
        } else if (MediaTypes.isLayer(t)) {
            kind = "layer";
        } else if (MediaTypes.isConfig(t)) {
            kind = "config";
        } else {
            kind = "unknown";
        }
        return kind + "-" + desc.digest();
    }

    /** Stores {@code desc}; {@code tee} (may be null) gets the bytes as they are written. */
    private void fetchBlob(PullRun run, Descriptor desc, BlobTee tee) {
        ContentStore store = run.store;
        try {
            store.info(desc.digest());
            if (tee != null) {
                tee.storedByOthers();
            }
            run.progress.blobSkipped(desc);
            label(run, desc.digest(), Map.of());
            return;
        } catch (NotFoundException e) {
            // fetch it
        }
        String ingestRef = refKey(desc);
        boolean restarted = false;
        boolean committedHere = false;
        for (int attempt = 1; ; attempt++) {
            Writer writer;
            try {
                writer = Content.openWriter(store, ingestRef, desc, Instant.MAX);
            } catch (AlreadyExistsException e) {
                if (tee != null) {
                    tee.storedByOthers();
                }
                break; // another pull committed it meanwhile
            }
            long offset = 0;
            try (writer) {
                offset = writer.status().offset();
                if (offset > desc.size()) {
                    writer.truncate(0);
                    offset = 0;
                    if (tee != null) {
                        tee.rewound(0);
                    }
                }
                if (offset < desc.size()) {
                    try (InputStream in = openBlob(run, desc, offset)) {
                        copy(in, writer, offset, desc.size() - offset, tee);
                    }
                }
                writer.commit(desc.size(), desc.digest());
                committedHere = true;
                break;
            } catch (AlreadyExistsException e) {
                if (tee != null) {
                    tee.storedByOthers();
                }
                break;
            } catch (FailedPreconditionException e) {
                abort(store, ingestRef);
                if (tee != null) {
                    tee.rewound(0);
                }
                if (offset > 0 && !restarted) {
                    // the bytes an earlier attempt left may not belong to this blob: start over once
                    restarted = true;
                    LOG.info("blob {} of {}: resumed ingest did not verify ({}); fetching it again from 0",
                            desc.digest(), run.ref, e.getMessage());
                    continue;
                }
                throw new FailedPreconditionException("blob " + desc.digest() + " of " + run.ref
                        + " was rejected before it was stored: " + e.getMessage(), e);
            } catch (IOException e) {
                if (attempt >= blobAttempts) {
                    throw new UnavailableException("blob " + desc.digest() + " of " + run.ref + ": the transfer broke "
                            + attempt + " times; giving up (" + e + "). The bytes received are kept and the next "
                            + "pull resumes from there", e);
                }
                LOG.info("blob {} of {}: {}; resuming (attempt {} of {})", desc.digest(), run.ref, e, attempt + 1,
                        blobAttempts);
            }
        }
        run.progress.blobVerified(desc);
        label(run, desc.digest(), Map.of());
        if (tee != null && committedHere) {
            tee.committed(); // after the labels: the unpack adds its own once the stream has ended
        }
    }

    /**
     * Copies exactly {@code length} bytes into the ingest. Whatever arrived before a failure is written
     * first, so a resume loses nothing.
     */
    private static void copy(InputStream in, Writer writer, long offset, long length, BlobTee tee)
            throws IOException {
        byte[] buffer = new byte[COPY_BUFFER];
        ByteBuffer wrapped = ByteBuffer.wrap(buffer);
        long left = length;
        while (left > 0) {
            int filled = 0;
            Throwable failure = null;
            try {
                while (filled < buffer.length && filled < left) {
                    int n = in.read(buffer, filled, (int) Math.min(buffer.length - filled, left - filled));
                    if (n < 0) {
                        throw new IOException("the stream ended " + (left - filled) + " bytes early");
                    }
                    filled += n;
                    if (in.available() == 0) {
                        break;
                    }
                }
            } catch (IOException | RuntimeException e) {
                failure = e;
            }
            wrapped.clear().limit(filled);
            while (wrapped.hasRemaining()) {
                writer.write(wrapped);
            }
            if (tee != null) {
                tee.wrote(offset + length - left, buffer, 0, filled);
            }
            left -= filled;
            if (failure instanceof IOException io) {
                throw io;
            }
            if (failure instanceof RuntimeException re) {
                throw re;
            }
        }
    }

    private static void abort(ContentStore store, String ingestRef) {
        try {
            store.abort(ingestRef);
        } catch (NotFoundException e) {
            // already gone
        }
    }

    private InputStream openBlob(PullRun run, Descriptor desc, long offset) throws IOException {
        if (desc.size() > 0 && offset >= desc.size()) {
            return InputStream.nullInputStream();
        }
        NotFoundException notFound = null;
        for (RegistryHost host : run.hosts) {
            URI uri = host.uri(run.ref.path(), "blobs/" + desc.digest(), ns(host, run.ref));
            Map<String, String> headers = offset > 0 ? Map.of("Range", "bytes=" + offset + "-") : Map.of();
            Call get = new Call(host, run.ref.domain(), "GET", uri, headers, null,
                    List.of(RegistryHttp.scope(run.ref.path(), false)), "blob " + desc.digest() + " of " + run.ref);
            Exchange ex = http.send(get);
            boolean handedOver = false;
            try {
                if (ex.status() == 404) {
                    notFound = (NotFoundException) RegistryHttp.failure(ex, get, "blob " + desc.digest() + " of "
                            + run.ref);
                    continue;
                }
                InputStream body = ex.body();
                if (ex.status() == 206) {
                    String range = ex.header("Content-Range").orElse("");
                    Matcher m = CONTENT_RANGE.matcher(range);
                    if (!m.matches() || Long.parseLong(m.group(1)) != offset) {
                        throw new IOException("asked " + host + " for bytes from " + offset + " of " + desc.digest()
                                + " but got Content-Range \"" + range + "\"");
                    }
                } else if (ex.status() == 200) {
                    if (offset > 0) {
                        LOG.debug("{} ignored the Range request for {}; skipping {} bytes", host, desc.digest(), offset);
                        body.skipNBytes(offset);
                    }
                } else {
                    throw RegistryHttp.failure(ex, get, "blob " + desc.digest() + " of " + run.ref);
                }
                run.progress.blobStarted(desc, offset);
                InputStream metered = new MeteredStream(body, desc, offset, run.progress, watchdog,
                        run.bytesFetched::addAndGet);
                handedOver = true;
                return metered;
            } finally {
                if (!handedOver) {
                    ex.close();
                }
            }
        }
        throw notFound != null ? notFound : new NotFoundException("blob " + desc.digest() + " of " + run.ref
                + " not found on " + hostList(run.hosts));
    }

    /**
     * Adds {@code labels} and the distribution source of {@code ref} to a stored blob, when the store keeps
     * labels; a store without labels (the bare local store) is remembered and skipped.
     */
    private static void label(PullRun run, Digest digest, Map<String, String> labels) {
        if (!run.labelsSupported) {
            return;
        }
        ContentStore store = run.store;
        Reference ref = run.ref;
        try {
            Info info = store.info(digest);
            Map<String, String> merged = new HashMap<>(info.labels());
            merged.putAll(labels);
            String sourceKey = Labels.DISTRIBUTION_SOURCE + ref.domain();
            String sources = merged.get(sourceKey);
            if (sources == null || sources.isEmpty()) {
                merged.put(sourceKey, ref.path());
            } else if (!List.of(sources.split(",")).contains(ref.path())) {
                merged.put(sourceKey, sources + "," + ref.path());
            }
            if (merged.equals(info.labels())) {
                return;
            }
            Set<String> keys = new LinkedHashSet<>(labels.keySet());
            keys.add(sourceKey);
            store.update(info.withLabels(merged), keys.stream().map(k -> "labels." + k).toArray(String[]::new));
        } catch (NotImplementedException e) {
            run.labelsSupported = false;
            LOG.debug("content store keeps no labels; pull labels are not recorded: {}", e.getMessage());
        }
    }

    // ------------------------------------------------------------------ push

    public void push(String reference, Descriptor target, PushOptions options) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(options, "options");
        Reference ref = Reference.parse(reference);
        if (ref.digest() != null && !ref.digest().equals(target.digest())) {
            throw new InvalidArgumentException("push " + ref + ": the reference's digest differs from the target "
                    + target.digest());
        }
        RegistryHost host = hostsConfig.hosts(ref.domain()).stream().filter(h -> h.can(Capability.PUSH)).findFirst()
                .orElseThrow(() -> new FailedPreconditionException("no host configured for " + ref.domain()
                        + " may push (capabilities)"));
        ProgressListener progress = options.progress() != null ? options.progress() : defaultProgress;
        List<Descriptor> blobs = new ArrayList<>();
        List<Descriptor> documents = new ArrayList<>();
        ContentStore store = storeFor(options.contentStore(), "push " + ref);
        collect(store, target, options.platforms(), blobs, documents, new LinkedHashSet<>());
        PushRun run = new PushRun(store, ref, host, progress, options.chunkSize());
        List<Future<?>> futures = new ArrayList<>();
        for (Descriptor blob : blobs) {
            futures.add(uploads.submit(() -> run.pushBlob(blob)));
        }
        RuntimeException first = null;
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (first == null) {
                    first = e.getCause() instanceof RuntimeException re ? re
                            : new BerthException("push " + ref + ": " + e.getCause(), e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                futures.forEach(x -> x.cancel(true));
                throw new CanceledException("push " + ref + " interrupted", e);
            }
        }
        if (first != null) {
            throw first;
        }
        for (Descriptor doc : documents) {
            boolean root = doc.digest().equals(target.digest());
            run.pushManifest(doc, root && ref.tag() != null ? ref.tag() : doc.digest().toString());
        }
        progress.done(ref.toString(), target);
    }

    /** Blobs first (deduplicated), then manifests children before parents. */
    private static void collect(ContentStore store, Descriptor desc, PlatformMatcher platforms,
                                List<Descriptor> blobs, List<Descriptor> docs, Set<Digest> seen) {
        if (!seen.add(desc.digest())) {
            return;
        }
        if (MediaTypes.isIndex(desc.mediaType())) {
            Index index = OciJson.parseIndex(readLocal(store, desc));
            for (Descriptor child : index.manifests()) {
                if (child.platform() == null || platforms.matches(child.platform())) {
                    collect(store, child, platforms, blobs, docs, seen);
                }
            }
            docs.add(desc);
        } else if (MediaTypes.isManifest(desc.mediaType())) {
            Manifest manifest = OciJson.parseManifest(readLocal(store, desc));
            collect(store, manifest.config(), platforms, blobs, docs, seen);
            for (Descriptor layer : manifest.layers()) {
                if (MediaTypes.isNonDistributable(layer.mediaType()) && !present(store, layer.digest())) {
                    continue;
                }
                collect(store, layer, platforms, blobs, docs, seen);
            }
            docs.add(desc);
        } else {
            blobs.add(desc);
        }
    }

    private static boolean present(ContentStore store, Digest digest) {
        try {
            store.info(digest);
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    private static byte[] readLocal(ContentStore store, Descriptor desc) {
        try {
            return Content.readBlob(store, desc);
        } catch (NotFoundException e) {
            throw new NotFoundException("cannot push: " + desc.mediaType() + " " + desc.digest()
                    + " is not in the content store", e);
        }
    }

    private final class PushRun {
        final ContentStore store;
        final Reference ref;
        final RegistryHost host;
        final ProgressListener progress;
        final long chunkSize;
        final List<String> scopes;

        PushRun(ContentStore store, Reference ref, RegistryHost host, ProgressListener progress, long chunkSize) {
            this.store = store;
            this.ref = ref;
            this.host = host;
            this.progress = progress;
            this.chunkSize = chunkSize;
            this.scopes = List.of(RegistryHttp.scope(ref.path(), true));
        }

        private Call call(String method, URI uri, Map<String, String> headers,
                          java.util.function.Supplier<HttpRequest.BodyPublisher> body, List<String> callScopes,
                          String what) {
            return new Call(host, ref.domain(), method, uri, headers, body, callScopes, what);
        }

        /**
         * Uploads {@code blob} unless the registry has it or can mount it. A transient failure anywhere in
         * the upload (network error, 429, 5xx) starts the upload over in a new session, up to the client's
         * attempts; the closing {@code PUT ?digest=} lets the registry verify what it got, so a broken
         * session can never commit wrong bytes.
         */
        void pushBlob(Descriptor blob) {
            String what = "blob " + blob.digest() + " for " + ref;
            if (registryHas(blob, what)) {
                progress.blobSkipped(blob);
                return;
            }
            URI location = null;
            for (String from : mountSources(blob)) {
                URI uri = host.uri(ref.path(), "blobs/uploads/?mount=" + enc(blob.digest().toString()) + "&from="
                        + enc(from), null);
                List<String> mountScopes = List.of(scopes.get(0), RegistryHttp.scope(from, false));
                Call post = call("POST", uri, Map.of(), null, mountScopes, what + " (mount from " + from + ")");
                try (Exchange ex = http.send(post)) {
                    if (ex.status() == 201) {
                        LOG.debug("mounted {} from {} into {}", blob.digest(), from, ref.path());
                        progress.blobVerified(blob);
                        return;
                    }
                    if (ex.status() == 202) {
                        location = location(ex, post);
                        break;
                    }
                    LOG.debug("mount of {} from {} refused: {}", blob.digest(), from, ex.status());
                } catch (RegistryAuthException | UnavailableException e) {
                    // a plain upload follows, and it is retried
                    LOG.debug("mount of {} from {} failed: {}", blob.digest(), from, e.getMessage());
                }
            }
            try (ReaderAt reader = store.readerAt(blob)) {
                if (reader.size() != blob.size()) {
                    throw new FailedPreconditionException("cannot push " + what + ": the stored blob is "
                            + reader.size() + " bytes, its descriptor says " + blob.size());
                }
                for (int attempt = 1; ; attempt++) {
                    try {
                        upload(blob, reader, location, what);
                        break;
                    } catch (TransientFailure e) {
                        if (attempt >= blobAttempts) {
                            throw new UnavailableException("pushing " + what + " to registry " + host.authority()
                                    + " failed " + attempt + " times; giving up. Last failure: "
                                    + e.getCause().getMessage(), e.getCause());
                        }
                        LOG.info("{}: {}; starting the upload over (attempt {} of {})", what,
                                e.getCause().getMessage(), attempt + 1, blobAttempts);
                        http.backoff(attempt - 1, e.retryAfter, e.call, e.getCause().getMessage());
                        location = null;
                        if (registryHas(blob, what)) {
                            break; // the upload landed, only its answer was lost
                        }
                    }
                }
            }
            progress.blobDone(blob);
            progress.blobVerified(blob);
        }

        /** Whether the repository already holds {@code blob} (a HEAD, which {@link RegistryHttp} retries). */
        private boolean registryHas(Descriptor blob, String what) {
            Call head = call("HEAD", host.uri(ref.path(), "blobs/" + blob.digest(), null), Map.of(), null, scopes,
                    what);
            try (Exchange ex = http.send(head)) {
                if (ex.status() == 200) {
                    return true;
                }
                if (ex.status() != 404) {
                    throw RegistryHttp.failure(ex, head, "checking " + what);
                }
                return false;
            }
        }

        /**
         * One upload of {@code blob}: in the session at {@code location} (from a refused mount) or a new one.
         *
         * @throws TransientFailure when a request of it broke or got 429/5xx
         */
        private void upload(Descriptor blob, ReaderAt reader, URI location, String what) {
            if (location == null) {
                Call post = call("POST", host.uri(ref.path(), "blobs/uploads/", null), Map.of(), null, scopes, what);
                try (Exchange ex = sendOnce(post)) {
                    expect(ex, post, 202, "starting upload of " + what);
                    location = location(ex, post);
                }
            }
            // a restarted upload counts from 0 again, as a pull that resumes counts from its offset
            progress.blobStarted(blob, 0);
            if (chunkSize == 0 || blob.size() <= chunkSize) {
                URI put = withQuery(location, "digest=" + enc(blob.digest().toString()));
                Call call = call("PUT", put, Map.of("Content-Type", "application/octet-stream"),
                        () -> HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(
                                () -> counting(reader.inputStream(0), blob, 0)), blob.size()), scopes, what);
                try (Exchange ex = sendOnce(call)) {
                    expect(ex, call, 201, "uploading " + what);
                }
                return;
            }
            long offset = 0;
            while (offset < blob.size()) {
                long start = offset;
                long length = Math.min(chunkSize, blob.size() - offset);
                Call patch = call("PATCH", location, Map.of("Content-Type", "application/octet-stream",
                        "Content-Range", start + "-" + (start + length - 1)),
                        () -> HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(
                                () -> counting(limit(reader.inputStream(start), length), blob, start)), length),
                        scopes, what + " bytes " + start + "-" + (start + length - 1));
                try (Exchange ex = sendOnce(patch)) {
                    expect(ex, patch, 202, "uploading a chunk of " + what);
                    location = location(ex, patch);
                }
                offset += length;
            }
            URI put = withQuery(location, "digest=" + enc(blob.digest().toString()));
            Call close = call("PUT", put, Map.of(), null, scopes, what);
            try (Exchange ex = sendOnce(close)) {
                expect(ex, close, 201, "completing upload of " + what);
            }
        }

        /** Sends a request of an upload session, which only a new session may repeat. */
        private Exchange sendOnce(Call call) {
            try {
                return http.send(call.retrying(false));
            } catch (UnavailableException e) {
                throw new TransientFailure(call, null, e);
            }
        }

        private void expect(Exchange ex, Call call, int status, String doing) {
            if (ex.status() == status) {
                return;
            }
            if (RegistryHttp.isTransient(ex.status())) {
                String retryAfter = ex.header("Retry-After").orElse(null);
                throw new TransientFailure(call, retryAfter, RegistryHttp.failure(ex, call, doing));
            }
            throw RegistryHttp.failure(ex, call, doing);
        }

        /**
         * Pushes a manifest or index; {@link RegistryHttp} repeats the PUT after transient failures, which
         * is safe because the registry stores it under its digest.
         */
        void pushManifest(Descriptor doc, String tagOrDigest) {
            byte[] bytes = readLocal(store, doc);
            String what = "manifest " + doc.digest() + " as " + ref.name() + ":" + tagOrDigest;
            progress.blobStarted(doc, 0);
            Call put = call("PUT", host.uri(ref.path(), "manifests/" + tagOrDigest, null),
                    Map.of("Content-Type", doc.mediaType()), () -> HttpRequest.BodyPublishers.ofByteArray(bytes),
                    scopes, what).retrying(true);
            try (Exchange ex = http.send(put)) {
                if (ex.status() != 201 && ex.status() != 200) {
                    throw RegistryHttp.failure(ex, put, "pushing " + what);
                }
                ex.header("Docker-Content-Digest").map(Engine::parseDigestHeader).ifPresent(d -> {
                    if (!d.equals(doc.digest())) {
                        throw new FailedPreconditionException("pushing " + what + ": the registry stored it as " + d);
                    }
                });
            }
            progress.blobProgress(doc, bytes.length);
            progress.blobDone(doc);
            progress.blobVerified(doc);
        }

        private List<String> mountSources(Descriptor blob) {
            try {
                String sources = store.info(blob.digest()).labels().get(Labels.DISTRIBUTION_SOURCE + ref.domain());
                if (sources == null || sources.isEmpty()) {
                    return List.of();
                }
                List<String> out = new ArrayList<>();
                for (String s : sources.split(",")) {
                    if (!s.isEmpty() && !s.equals(ref.path())) {
                        out.add(s);
                    }
                }
                return out;
            } catch (NotFoundException e) {
                return List.of();
            }
        }

        private InputStream counting(InputStream in, Descriptor blob, long start) {
            return new FilterInputStream(in) {
                long position = start;
                long lastReport = System.nanoTime();

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    if (n > 0) {
                        position += n;
                        long now = System.nanoTime();
                        if (now - lastReport >= 100_000_000L || position == blob.size()) {
                            lastReport = now;
                            progress.blobProgress(blob, position);
                        }
                    }
                    return n;
                }
            };
        }
    }

    /**
     * A request of a blob upload broke or got 429/5xx: the upload may start over. Never leaves
     * {@link PushRun}; its cause is what the caller sees once the attempts are used up.
     */
    private static final class TransientFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient Call call;
        final String retryAfter;

        TransientFailure(Call call, String retryAfter, BerthException cause) {
            super(cause.getMessage(), cause, false, false);
            this.call = call;
            this.retryAfter = retryAfter;
        }
    }

    private static InputStream limit(InputStream in, long length) {
        return new FilterInputStream(in) {
            long left = length;

            @Override
            public int read() throws IOException {
                if (left <= 0) {
                    return -1;
                }
                int b = super.read();
                if (b >= 0) {
                    left--;
                }
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (left <= 0) {
                    return -1;
                }
                int n = super.read(b, off, (int) Math.min(len, left));
                if (n > 0) {
                    left -= n;
                }
                return n;
            }
        };
    }

    private static URI location(Exchange ex, Call call) {
        String location = ex.header("Location").orElseThrow(() -> new FailedPreconditionException(call.what()
                + ": registry " + call.host().authority() + " answered " + ex.status() + " without a Location"));
        return ex.uri().resolve(location);
    }

    private static URI withQuery(URI uri, String param) {
        String s = uri.toString();
        return URI.create(s + (uri.getRawQuery() == null ? "?" : "&") + param);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
