package dev.berth.image;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.BerthException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.Digester;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.IoFailureException;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.MediaTypes;
import dev.berth.api.Platform;
import dev.berth.api.content.ContentStore;
import dev.berth.api.content.Writer;
import dev.berth.api.image.Image;
import dev.berth.api.image.ImageReference;
import dev.berth.api.image.ImageStore;
import dev.berth.api.oci.image.ImageConfig;
import dev.berth.api.oci.image.Manifest;
import dev.berth.api.oci.image.OciJson;
import dev.berth.image.internal.ContentLabels;
import dev.berth.image.internal.LayerTarWriter;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorOutputStream;

/**
 * Builds an image from a base image (or from scratch) plus layers of files, writes its layers,
 * config and manifest into the content store and optionally names it in an image store; the small,
 * Jib-like way to make test images and application images without a Dockerfile.
 *
 * <pre>{@code
 * Image image = images.newImage()
 *         .from("docker.io/library/busybox:latest")
 *         .layer(LayerContent.builder().file("/hello.txt", "hi").build())
 *         .entrypoint("/bin/cat", "/hello.txt")
 *         .build("example.com/hello:1");
 * }</pre>
 *
 * <p>Output is reproducible: the same inputs give the same digests (layers are written sorted with fixed
 * times, see {@link LayerContent}; the config's {@code created} time is the epoch unless
 * {@link #created} says otherwise). The manifest and config use OCI media types; a base image's layers
 * keep theirs. New layers are gzip-compressed unless {@link #compression} says otherwise. Not
 * thread-safe.
 */
public final class ImageBuilder {
    private final ContentStore store;
    private final ImageStore images;
    private final java.util.function.Function<String, ResolvedImage> resolver;
    private ResolvedImage base;
    private Platform platform = Platform.host();
    private final List<LayerContent> layers = new ArrayList<>();
    private Compression compression = Compression.GZIP;
    private Instant created = Instant.EPOCH;
    private List<String> entrypoint;
    private List<String> cmd;
    private final Map<String, String> env = new LinkedHashMap<>();
    private String workingDir;
    private String user;
    private final Map<String, String> labels = new LinkedHashMap<>();
    private final Map<String, String> annotations = new LinkedHashMap<>();

    ImageBuilder(ContentStore store, ImageStore images, java.util.function.Function<String, ResolvedImage> resolver) {
        this.store = Objects.requireNonNull(store, "store");
        this.images = images;
        this.resolver = resolver;
    }

    /** A builder writing into {@code store}, without an image store: use {@link #build()}. */
    public static ImageBuilder create(ContentStore store) {
        return new ImageBuilder(store, null, null);
    }

    /** Starts from {@code base} (its platform, layers and config). */
    public ImageBuilder from(ResolvedImage newBase) {
        this.base = Objects.requireNonNull(newBase, "base");
        this.platform = newBase.platform();
        return this;
    }

    /**
     * Starts from the image named {@code name}, resolved for the service's platform.
     *
     * @throws FailedPreconditionException if this builder was not created by {@link ImageService#newImage()}
     */
    public ImageBuilder from(String name) {
        if (resolver == null) {
            throw new FailedPreconditionException("from(String) needs a builder made by ImageService.newImage()");
        }
        return from(resolver.apply(name));
    }

    /** The platform of an image built from scratch (default: the host's). */
    public ImageBuilder platform(Platform newPlatform) {
        this.platform = Objects.requireNonNull(newPlatform, "platform");
        return this;
    }

    /** Appends a layer on top of the base image's and the previously added ones. */
    public ImageBuilder layer(LayerContent layer) {
        layers.add(Objects.requireNonNull(layer, "layer"));
        return this;
    }

    /** Compression of new layers: GZIP (default), ZSTD or NONE. */
    public ImageBuilder compression(Compression newCompression) {
        Objects.requireNonNull(newCompression, "compression");
        if (newCompression == Compression.UNKNOWN) {
            throw new dev.berth.api.InvalidArgumentException("layer compression must be GZIP, ZSTD or NONE");
        }
        this.compression = newCompression;
        return this;
    }

    /** The config's {@code created} time and that of the new history entries (default: the epoch). */
    public ImageBuilder created(Instant time) {
        this.created = Objects.requireNonNull(time, "created");
        return this;
    }

    public ImageBuilder entrypoint(String... args) {
        this.entrypoint = List.of(args);
        return this;
    }

    public ImageBuilder cmd(String... args) {
        this.cmd = List.of(args);
        return this;
    }

    /** Sets environment variable {@code name} (replacing the base image's value, if any). */
    public ImageBuilder env(String name, String value) {
        if (name == null || name.isEmpty() || name.contains("=")) {
            throw new dev.berth.api.InvalidArgumentException("bad environment variable name \"" + name + "\"");
        }
        env.put(name, Objects.requireNonNull(value, "value"));
        return this;
    }

    public ImageBuilder workingDir(String dir) {
        this.workingDir = Objects.requireNonNull(dir, "workingDir");
        return this;
    }

    /** The user processes run as: {@code name}, {@code uid}, {@code uid:gid}, ... */
    public ImageBuilder user(String newUser) {
        this.user = Objects.requireNonNull(newUser, "user");
        return this;
    }

    /** A config label ({@code config.Labels}). */
    public ImageBuilder label(String key, String value) {
        labels.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /** A manifest annotation. */
    public ImageBuilder annotation(String key, String value) {
        annotations.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /**
     * Writes the layers, config and manifest into the content store.
     *
     * @return the manifest's descriptor
     */
    public Descriptor build() {
        String session = UUID.randomUUID().toString();
        List<Descriptor> layerDescriptors = new ArrayList<>(base == null ? List.of() : base.layers());
        List<Digest> diffIds = new ArrayList<>(base == null ? List.of() : base.diffIds());
        List<ImageConfig.History> history = new ArrayList<>(base == null ? List.of() : base.config().history());
        for (int i = 0; i < layers.size(); i++) {
            LayerWritten w = writeLayer(layers.get(i), "build-" + session + "-layer-" + i);
            layerDescriptors.add(w.descriptor);
            diffIds.add(w.diffId);
            history.add(new ImageConfig.History(created, "berth image builder layer " + i, false));
        }
        ImageConfig.Builder cb = base != null ? base.config().toBuilder()
                : ImageConfig.builder(platform.os(), platform.architecture()).variant(platform.variant());
        ImageConfig.Config config = base != null ? base.config().config() : ImageConfig.Config.EMPTY;
        if (entrypoint != null) {
            config = config.withEntrypoint(entrypoint);
        }
        if (cmd != null) {
            config = config.withCmd(cmd);
        }
        if (!env.isEmpty()) {
            Map<String, String> merged = new LinkedHashMap<>();
            for (String e : config.env()) {
                int eq = e.indexOf('=');
                merged.put(eq < 0 ? e : e.substring(0, eq), eq < 0 ? null : e.substring(eq + 1));
            }
            merged.putAll(env);
            List<String> list = new ArrayList<>();
            merged.forEach((k, v) -> list.add(v == null ? k : k + "=" + v));
            config = config.withEnv(list);
        }
        if (workingDir != null) {
            config = config.withWorkingDir(workingDir);
        }
        if (user != null) {
            config = config.withUser(user);
        }
        if (!labels.isEmpty()) {
            Map<String, String> merged = new LinkedHashMap<>(config.labels());
            merged.putAll(labels);
            config = config.withLabels(merged);
        }
        ImageConfig imageConfig = cb.created(created).config(config).diffIds(diffIds).history(history).build();
        byte[] configBytes = OciJson.write(imageConfig);
        Descriptor configDesc = Descriptor.of(MediaTypes.OCI_CONFIG, configBytes);
        writeSmall(configDesc, configBytes, "build-" + session + "-config");

        Manifest manifest = Manifest.of(configDesc, layerDescriptors).withAnnotations(annotations);
        byte[] manifestBytes = OciJson.write(manifest);
        Descriptor manifestDesc = Descriptor.of(MediaTypes.OCI_MANIFEST, manifestBytes);
        writeSmall(manifestDesc, manifestBytes, "build-" + session + "-manifest");
        ContentLabels.add(store, manifestDesc.digest(), ContentLabels.manifestChildren(configDesc.digest(),
                layerDescriptors.stream().map(Descriptor::digest).toList()));
        return manifestDesc;
    }

    /**
     * {@link #build()} and names the result {@code name} (normalized, e.g. {@code app} →
     * {@code docker.io/library/app:latest}), replacing an image of that name.
     *
     * @throws FailedPreconditionException if this builder was not created by {@link ImageService#newImage()}
     */
    public Image build(String name) {
        if (images == null) {
            throw new FailedPreconditionException("build(name) needs a builder made by ImageService.newImage()");
        }
        String normalized = ImageReference.normalize(name);
        Descriptor manifest = build();
        Image image = new Image(normalized, manifest);
        try {
            return images.create(image);
        } catch (AlreadyExistsException e) {
            return images.update(image, "target");
        }
    }

    private record LayerWritten(Descriptor descriptor, Digest diffId) {
    }

    private LayerWritten writeLayer(LayerContent layer, String ref) {
        Writer writer = store.writer(ref, null);
        try (writer) {
            DigestingOutputStream uncompressed;
            OutputStream sink = new BufferedOutputStream(new NonClosing(writer.asOutputStream()), 1 << 16);
            OutputStream compressor = switch (compression) {
                case GZIP -> new GZIPOutputStream(sink, 1 << 16);
                case ZSTD -> new ZstdCompressorOutputStream(sink);
                default -> sink;
            };
            uncompressed = new DigestingOutputStream(compressor);
            LayerTarWriter.write(layer, uncompressed);
            uncompressed.close();
            Digest digest = writer.digest();
            long size = writer.status().offset();
            try {
                writer.commit(size, digest);
            } catch (AlreadyExistsException e) {
                // the same layer was built before
            }
            String mediaType = switch (compression) {
                case GZIP -> MediaTypes.OCI_LAYER_GZIP;
                case ZSTD -> MediaTypes.OCI_LAYER_ZSTD;
                default -> MediaTypes.OCI_LAYER;
            };
            return new LayerWritten(new Descriptor(mediaType, digest, size), uncompressed.digester.digest());
        } catch (IOException e) {
            abortQuietly(ref);
            throw new IoFailureException("building a layer failed: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            abortQuietly(ref);
            throw e;
        }
    }

    private void writeSmall(Descriptor desc, byte[] bytes, String ref) {
        Writer writer;
        try {
            writer = store.writer(ref, desc);
        } catch (AlreadyExistsException e) {
            return;
        }
        try (writer) {
            writer.write(ByteBuffer.wrap(bytes));
            writer.commit(bytes.length, desc.digest());
        } catch (AlreadyExistsException e) {
            // stored meanwhile
        } catch (RuntimeException e) {
            abortQuietly(ref);
            throw new BerthException("storing " + desc.digest() + " failed: " + e.getMessage(), e);
        }
    }

    private void abortQuietly(String ref) {
        try {
            store.abort(ref);
        } catch (RuntimeException ignored) {
            // nothing to abort
        }
    }

    private static final class DigestingOutputStream extends FilterOutputStream {
        final Digester digester = Digester.sha256();

        DigestingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            digester.update(b, off, len);
            out.write(b, off, len);
        }
    }

    private static final class NonClosing extends FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}
