package dev.berth.image;

import dev.berth.api.ClosedException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.NotFoundException;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.content.ContentStore;
import dev.berth.api.image.Image;
import dev.berth.api.image.ImageReference;
import dev.berth.api.image.ImageStore;
import dev.berth.api.image.LayerGate;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.image.internal.ArchiveExporter;
import dev.berth.image.internal.ArchiveImporter;
import dev.berth.image.internal.ChainLocks;
import dev.berth.image.internal.ImportUnpacker;
import dev.berth.image.internal.Resolver;
import dev.berth.image.internal.Unpacker;
import dev.berth.snapshot.archive.LayerApplier;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Images on top of a content store, an image store and snapshotters: containerd's image functions
 * without a daemon.
 *
 * <pre>{@code
 * try (ImageService images = ImageService.builder(contentStore)
 *         .imageStore(imageStore)
 *         .snapshotter(Snapshotters.overlay(root.resolve("snapshots/overlayfs")))
 *         .build()) {
 *     List<Image> imported = images.importArchive(Path.of("busybox.tar"));
 *     UnpackResult rootfs = images.unpack(imported.get(0).name());
 *     // rootfs.topChainId() is the parent snapshot of a container's root file system
 * }
 * }</pre>
 *
 * <ul>
 *   <li>{@link #resolve}: picks the manifest for a platform below an index, manifest list or manifest,
 *       reading every blob with its digest <em>and size</em> checked.</li>
 *   <li>{@link #unpack}: extracts the layers into a snapshotter as chainID snapshots, verifying diffIDs.</li>
 *   <li>{@link #importArchive}: OCI layout (tar or directory) and {@code docker save} tars in one pass.</li>
 *   <li>{@link #export}: OCI layout tar with a Docker {@code manifest.json}.</li>
 *   <li>{@link #newImage()}: builds images from files ({@link ImageBuilder}).</li>
 * </ul>
 * Image names given to {@link #resolve} and {@link #unpack} are looked up as given and, failing that,
 * in normalized form ({@code busybox} → {@code docker.io/library/busybox:latest}).
 *
 * <p>Thread-safe. {@link #close()} stops the internal threads (if no executor was given); it does not
 * close the stores or snapshotters, which belong to the caller.
 */
public final class ImageService implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ImageService.class);
    private final ContentStore contentStore;
    private final ImageStore imageStore;
    private final Map<String, Snapshotter> snapshotters;
    private final PlatformMatcher platforms;
    private final ExecutorService ownedExecutor;
    private final Resolver resolver;
    private final Unpacker unpacker;
    private final ChainLocks locks;
    private final LayerApplier applier;
    private final java.util.concurrent.Executor executor;
    private final ArchiveImporter importer;
    private final ArchiveExporter exporter;
    private volatile boolean closed;

    private ImageService(Builder b) {
        this.contentStore = b.contentStore;
        this.imageStore = b.imageStore != null ? b.imageStore : new InMemoryImageStore();
        this.snapshotters = Map.copyOf(b.snapshotters);
        this.platforms = b.platforms;
        java.util.concurrent.Executor executor = b.executor;
        if (executor == null) {
            ownedExecutor = Executors.newCachedThreadPool(daemonThreads());
            executor = ownedExecutor;
        } else {
            ownedExecutor = null;
        }
        this.resolver = new Resolver(contentStore);
        this.locks = new ChainLocks(b.lockDirectory);
        this.applier = b.applier;
        this.executor = executor;
        this.unpacker = new Unpacker(contentStore, executor, locks, b.applier);
        this.importer = new ArchiveImporter(contentStore, imageStore);
        this.exporter = new ArchiveExporter(contentStore, imageStore);
        this.defaultSnapshotter = b.defaultSnapshotter;
    }

    private final String defaultSnapshotter;

    /** Starts a service over {@code contentStore}. */
    public static Builder builder(ContentStore contentStore) {
        return new Builder(contentStore);
    }

    public ContentStore contentStore() {
        return contentStore;
    }

    public ImageStore imageStore() {
        return imageStore;
    }

    /** The default platform matcher (the host's unless configured). */
    public PlatformMatcher platforms() {
        return platforms;
    }

    /**
     * The image record named {@code name} (or its normalized form).
     *
     * @throws NotFoundException if neither exists
     */
    public Image get(String name) {
        ensureOpen();
        Objects.requireNonNull(name, "name");
        try {
            return imageStore.get(name);
        } catch (NotFoundException e) {
            String normalized;
            try {
                normalized = ImageReference.normalize(name);
            } catch (InvalidArgumentException bad) {
                throw e;
            }
            if (normalized.equals(name)) {
                throw e;
            }
            return imageStore.get(normalized);
        }
    }

    /** Resolves image {@code name} for the default platform. */
    public ResolvedImage resolve(String name) {
        return resolve(name, platforms);
    }

    /**
     * Resolves image {@code name} for the platforms {@code matcher} accepts (the best one wins).
     *
     * @throws NotFoundException if the image does not exist, or no manifest matches (listing the
     *         platforms the image offers), or a blob is missing
     * @throws BlobMismatchException if a blob's size or digest differs from its descriptor
     * @throws InvalidArgumentException if a document is malformed or the config's diff_ids do not match
     *         the layers
     */
    public ResolvedImage resolve(String name, PlatformMatcher matcher) {
        ensureOpen();
        Image image = get(name);
        return resolver.resolve(image.name(), image.target(), Objects.requireNonNull(matcher, "matcher"));
    }

    /** Resolves an index or manifest descriptor that no name points at. */
    public ResolvedImage resolve(Descriptor target, PlatformMatcher matcher) {
        ensureOpen();
        return resolver.resolve(null, target, Objects.requireNonNull(matcher, "matcher"));
    }

    /** Unpacks image {@code name} for the default platform into the default snapshotter. */
    public UnpackResult unpack(String name) {
        return unpack(resolve(name), snapshotter(null));
    }

    /** Unpacks image {@code name} for the default platform into the snapshotter named {@code snapshotter}. */
    public UnpackResult unpack(String name, String snapshotter) {
        return unpack(resolve(name), snapshotter(snapshotter));
    }

    /**
     * Unpacks {@code image} into {@code snapshotter}: every layer becomes a committed snapshot named by
     * its chainID; layers already unpacked are skipped. Concurrent calls (threads, or processes sharing
     * the builder's {@link Builder#lockDirectory lock directory}) for the same layers do the work once.
     * Afterwards the config blob carries {@code containerd.io/gc.ref.snapshot.<snapshotter>} and each
     * layer blob {@code containerd.io/uncompressed}, if the content store keeps labels.
     *
     * @throws DiffIdMismatchException if a layer's content does not match the config's diffID
     * @throws BlobMismatchException if a layer blob's size or digest differs from its descriptor
     * @throws dev.berth.api.NotImplementedException for a layer media type Berth cannot unpack
     * @throws NotFoundException if a layer blob is missing (checked before anything is extracted for a
     *         non-distributable layer, whose urls the message names)
     */
    public UnpackResult unpack(ResolvedImage image, Snapshotter snapshotter) {
        return unpack(image, snapshotter, LayerGate.OPEN);
    }

    /**
     * {@link #unpack(ResolvedImage, Snapshotter)} while the layer blobs may still be arriving: each layer
     * is read only after {@code gate} lets it, so applying one layer overlaps with fetching the next. The
     * image's manifest and config must already be in the content store ({@link #resolve} read them).
     */
    public UnpackResult unpack(ResolvedImage image, Snapshotter snapshotter, LayerGate gate) {
        ensureOpen();
        return unpacker.unpack(Objects.requireNonNull(image, "image"), Objects.requireNonNull(snapshotter, "snapshotter"),
                Objects.requireNonNull(gate, "gate"));
    }

    /** The snapshotter registered under {@code name}; null = the default one. */
    public Snapshotter snapshotter(String name) {
        ensureOpen();
        String n = name != null ? name : defaultSnapshotter;
        if (n == null) {
            throw new InvalidArgumentException("no snapshotter configured: add one with Builder.snapshotter");
        }
        Snapshotter s = snapshotters.get(n);
        if (s == null) {
            throw new NotFoundException("snapshotter \"" + n + "\" is not configured (have " + snapshotters.keySet() + ")");
        }
        return s;
    }

    /** {@link #importArchive(Path, ImportOptions)} with default options. */
    public List<Image> importArchive(Path archive) {
        return importArchive(archive, ImportOptions.defaults());
    }

    /**
     * Imports an OCI layout directory, or a tar file (OCI layout or {@code docker save}; it may be
     * gzip or zstd compressed as a whole). See {@link #importArchive(InputStream, ImportOptions)}.
     */
    public List<Image> importArchive(Path archive, ImportOptions options) {
        ensureOpen();
        Objects.requireNonNull(archive, "archive");
        Objects.requireNonNull(options, "options");
        if (Files.isDirectory(archive)) {
            List<Image> imported = importer.importDirectory(archive, matcher(options.platforms()), options.baseName());
            if (options.unpack()) {
                unpackImported(imported, options, null);
            }
            return imported;
        }
        try (InputStream in = Files.newInputStream(archive)) {
            return importTar(in, options);
        } catch (IOException e) {
            throw new IoFailureException("cannot read " + archive + ": " + e.getMessage(), e);
        }
    }

    /** {@link #importArchive(InputStream, ImportOptions)} with default options. */
    public List<Image> importArchive(InputStream archive) {
        return importArchive(archive, ImportOptions.defaults());
    }

    /**
     * Imports an image archive read once, sequentially, from {@code archive} (not closed): an OCI image
     * layout tar ({@code oci-layout}, {@code index.json}, {@code blobs/}) or a {@code docker save} tar
     * ({@code manifest.json}, {@code <id>/layer.tar}, configs; symlinked and uncompressed layers are
     * fine). Files are streamed into the content store as they arrive; a blob named by its digest is
     * verified before it is committed. Images are named from {@code io.containerd.image.name},
     * {@code org.opencontainers.image.ref.name} or docker's {@code RepoTags}, normalized; an existing
     * image of the same name is pointed at the new content. Image records are written only after every
     * blob of every image has been stored and checked, so a failed import names no image.
     *
     * <p>Like containerd, Berth lets an archive leave out what it cannot or need not carry: blobs of
     * platforms the options do not ask for, attestation manifests (buildx's {@code unknown/unknown}
     * entries) and other index entries that are attachments, and non-distributable (foreign) layers,
     * which {@code docker save} describes in {@code LayerSources}. Such an image is imported; unpacking it
     * fails with a {@link NotFoundException} naming the layer and its urls until the blob is added to the
     * content store. A descriptor's embedded {@code data} stands in for a blob the archive lacks, once it
     * matches the descriptor's size and digest.
     *
     * <p>With {@link ImportOptions#withUnpack()} every imported image is also unpacked (an image with no
     * manifest for the platforms is imported and left packed). Layers are then applied while the
     * archive is stored, each blob copied to the applier as it is read; the snapshots are committed
     * only for verified blobs, and a failed import removes them.
     *
     * @return the images created or updated, in archive order
     * @throws BlobMismatchException naming the archive entry whose bytes do not match their name or
     *         descriptor
     * @throws NotFoundException naming a blob an image needs that the archive lacks
     * @throws InvalidArgumentException for an unrecognized or malformed archive
     */
    public List<Image> importArchive(InputStream archive, ImportOptions options) {
        ensureOpen();
        Objects.requireNonNull(archive, "archive");
        Objects.requireNonNull(options, "options");
        return importTar(archive, options);
    }

    /**
     * Set to false, an import with unpack stores the whole archive first and unpacks after it, instead
     * of applying layers while they are stored (the A/B switch of the import benchmark).
     */
    static final String STREAM_UNPACK_PROPERTY = "berth.import.streamUnpack";

    private List<Image> importTar(InputStream in, ImportOptions options) {
        PlatformMatcher matcher = matcher(options.platforms());
        if (!options.unpack()) {
            return importer.importTar(in, matcher, options.baseName());
        }
        Snapshotter target = snapshotter(options.snapshotter());
        ImportUnpacker streaming = Boolean.parseBoolean(System.getProperty(STREAM_UNPACK_PROPERTY, "true"))
                ? new ImportUnpacker(target, applier, locks, executor) : null;
        List<Image> imported;
        try {
            imported = importer.importTar(in, matcher, options.baseName(), streaming);
        } catch (RuntimeException | Error e) {
            if (streaming != null) {
                streaming.abort();
            }
            throw e;
        }
        unpackImported(imported, options, streaming);
        return imported;
    }

    /** Unpacks what an import named; drops the layers speculation applied that no image needs. */
    private void unpackImported(List<Image> imported, ImportOptions options, ImportUnpacker streaming) {
        Snapshotter target = snapshotter(options.snapshotter());
        PlatformMatcher matcher = matcher(options.platforms());
        Set<Digest> wanted = new HashSet<>();
        try {
            List<ResolvedImage> resolved = new ArrayList<>();
            for (Image image : imported) {
                ResolvedImage r;
                try {
                    r = resolver.resolve(image.name(), image.target(), matcher);
                } catch (NotFoundException e) {
                    // e.g. no manifest for these platforms: imported, but there is nothing to unpack
                    LOG.info("image {} is not unpacked: {}", image.name(), e.getMessage());
                    continue;
                }
                resolved.add(r);
                wanted.addAll(r.chainIds());
            }
            if (streaming != null) {
                streaming.finish(wanted);
                streaming = null;
            }
            for (ResolvedImage r : resolved) {
                unpacker.unpack(r, target, LayerGate.OPEN);
            }
        } finally {
            if (streaming != null) {
                streaming.finish(wanted);
            }
        }
    }

    /** Exports {@code names} for the default platform, with a Docker manifest.json. */
    public void export(OutputStream out, String... names) {
        export(out, ExportOptions.of(names));
    }

    /**
     * Writes the images as an OCI image layout tar to {@code out} (not closed). See
     * {@link ExportOptions}. Stored blobs are copied byte for byte (never re-serialized); index blobs
     * are kept whole even when only some platforms are exported. Absent non-distributable layers and
     * absent attestations are left out; the Docker {@code manifest.json} lists foreign layers in
     * {@code LayerSources} as {@code docker save} does, and gives {@code RepoTags} only for tagged names.
     *
     * @throws NotFoundException if an image or a blob it needs for the chosen platforms is missing
     */
    public void export(OutputStream out, ExportOptions options) {
        ensureOpen();
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(options, "options");
        List<String> names = new ArrayList<>();
        for (String n : options.names()) {
            names.add(get(n).name());
        }
        exporter.export(out, names, matcher(options.platforms()), options.dockerManifest());
    }

    /** A builder for a new image stored in this service's content store and named in its image store. */
    public ImageBuilder newImage() {
        ensureOpen();
        return new ImageBuilder(contentStore, imageStore, this::resolve).platform(platformOfMatcher());
    }

    private dev.berth.api.Platform platformOfMatcher() {
        return dev.berth.api.Platform.host();
    }

    private PlatformMatcher matcher(PlatformMatcher given) {
        return given != null ? given : platforms;
    }

    private void ensureOpen() {
        if (closed) {
            throw new ClosedException("image service");
        }
    }

    /** Stops internal threads. Idempotent. */
    @Override
    public void close() {
        closed = true;
        if (ownedExecutor != null) {
            ownedExecutor.shutdownNow();
        }
    }

    private static ThreadFactory daemonThreads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "berth-images-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Options of an {@link ImageService}; validates each as it is set. Not thread-safe. */
    public static final class Builder {
        private final ContentStore contentStore;
        private ImageStore imageStore;
        private final Map<String, Snapshotter> snapshotters = new LinkedHashMap<>();
        private String defaultSnapshotter;
        private PlatformMatcher platforms = PlatformMatcher.host();
        private ExecutorService executor;
        private Path lockDirectory;
        private LayerApplier applier = LayerApplier.create();

        private Builder(ContentStore contentStore) {
            this.contentStore = Objects.requireNonNull(contentStore, "contentStore");
        }

        /** Where image names are kept (default: a new {@link InMemoryImageStore}). */
        public Builder imageStore(ImageStore store) {
            this.imageStore = Objects.requireNonNull(store, "imageStore");
            return this;
        }

        /**
         * Adds a snapshotter, registered under its {@link Snapshotter#name()}; the first one added is the
         * default for {@link ImageService#unpack(String)}.
         */
        public Builder snapshotter(Snapshotter snapshotter) {
            Objects.requireNonNull(snapshotter, "snapshotter");
            if (snapshotters.putIfAbsent(snapshotter.name(), snapshotter) != null) {
                throw new InvalidArgumentException("a snapshotter named \"" + snapshotter.name() + "\" was already added");
            }
            if (defaultSnapshotter == null) {
                defaultSnapshotter = snapshotter.name();
            }
            return this;
        }

        /** Which platform to resolve, import and export by default (default: {@link PlatformMatcher#host()}). */
        public Builder platforms(PlatformMatcher matcher) {
            this.platforms = Objects.requireNonNull(matcher, "platforms");
            return this;
        }

        /**
         * Threads that read and decompress layers while the calling thread writes files. Must run tasks
         * on other threads (not in the caller), with at least two available per concurrent unpack.
         * Default: an internal pool of daemon threads, stopped by {@link ImageService#close()}.
         */
        public Builder executor(ExecutorService newExecutor) {
            this.executor = Objects.requireNonNull(newExecutor, "executor");
            return this;
        }

        /**
         * A directory for per-chainID lock files, so that several processes unpacking the same image into
         * the same snapshotter root extract each layer once. Without it, concurrent threads of this JVM
         * still share the work, and another process racing for the same layer loses at commit (the
         * snapshotter reports the name exists) and discards its copy: correct, but done twice.
         */
        public Builder lockDirectory(Path dir) {
            this.lockDirectory = Objects.requireNonNull(dir, "lockDirectory");
            return this;
        }

        /** The layer applier (default: {@link LayerApplier#create()}, with its default size and ratio limits). */
        public Builder layerApplier(LayerApplier newApplier) {
            this.applier = Objects.requireNonNull(newApplier, "layerApplier");
            return this;
        }

        public ImageService build() {
            return new ImageService(this);
        }
    }
}
