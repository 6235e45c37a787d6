package dev.berth.image.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.AlreadyExistsException;
import dev.berth.api.BerthException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.MediaTypes;
import dev.berth.api.NotFoundException;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.content.ContentStore;
import dev.berth.api.content.Info;
import dev.berth.api.content.ReaderAt;
import dev.berth.api.content.Writer;
import dev.berth.api.image.Image;
import dev.berth.api.image.ImageReference;
import dev.berth.api.image.ImageStore;
import dev.berth.api.oci.image.ImageConfig;
import dev.berth.api.oci.image.Index;
import dev.berth.api.oci.image.Manifest;
import dev.berth.api.oci.image.OciJson;
import dev.berth.image.BlobMismatchException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream;

/**
 * Imports an OCI image layout (directory or tar) or a {@code docker save} tar in one sequential pass:
 * every file is streamed into the content store as it is read (a blob named by its digest is verified
 * before it is committed), small JSON files are kept in memory, and once the archive has ended the
 * images are put together, checked, labelled and only then named in the image store. A failure at any
 * point leaves no image record behind; blobs already committed stay unreferenced for GC.
 */
public final class ArchiveImporter {
    private static final String OCI_NAME = "io.containerd.image.name";
    private static final String OCI_REF_NAME = "org.opencontainers.image.ref.name";
    /** The largest index document (oci-layout, index.json, manifest.json, repositories) held in memory. */
    static final long MAX_INDEX_DOCUMENT = 16L << 20;
    /** All index documents of one archive together, counting repeated entries: they are held in memory. */
    static final long MAX_INDEX_DOCUMENTS_TOTAL = 32L << 20;
    private static final int BUFFER = 1 << 20;
    private static final Pattern BLOB_PATH = Pattern.compile("blobs/([a-z0-9]+)/([a-f0-9]+)");
    /** Built at the first import, not with the image service: a process that only runs images never needs it. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    private final ContentStore store;
    private final ImageStore images;
    private final Resolver resolver;

    public ArchiveImporter(ContentStore store, ImageStore images) {
        this.store = Objects.requireNonNull(store, "store");
        this.images = Objects.requireNonNull(images, "images");
        this.resolver = new Resolver(store);
    }

    /** Imports a tar stream (plain, or gzip/zstd compressed as a whole); does not close {@code in}. */
    public List<Image> importTar(InputStream in, PlatformMatcher platforms, String baseName) {
        return importTar(in, platforms, baseName, null);
    }

    /**
     * {@link #importTar(InputStream, PlatformMatcher, String)}, handing every blob that starts like a
     * layer to {@code unpacker} (null = none) while it is stored.
     */
    public List<Image> importTar(InputStream in, PlatformMatcher platforms, String baseName, ImportUnpacker unpacker) {
        Session session = new Session(platforms, baseName);
        session.unpacker = unpacker;
        try {
            InputStream raw = decompressIfNeeded(new BufferedInputStream(in, 1 << 16));
            TarArchiveInputStream tar = new TarArchiveInputStream(raw);
            byte[] buffer = new byte[BUFFER];
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                String name = clean(entry.getName());
                if (name.isEmpty() || entry.isDirectory()) {
                    continue;
                }
                if (entry.isSymbolicLink()) {
                    session.links.put(name, resolveLink(name, entry.getLinkName()));
                } else if (entry.isLink()) {
                    session.links.put(name, clean(entry.getLinkName()));
                } else if (entry.isFile()) {
                    long size = entry.getSize();
                    TarArchiveInputStream source = tar;
                    session.file(name, size, w -> copyStream(source, w, size, buffer, session::tee),
                            () -> readAll(source, size, name));
                }
            }
        } catch (IOException e) {
            session.abortCurrent();
            throw new IoFailureException("import: reading the archive failed: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            session.abortCurrent();
            throw e;
        }
        return session.finish();
    }

    /** Imports an OCI image layout directory (or an unpacked docker save directory). */
    public List<Image> importDirectory(Path dir, PlatformMatcher platforms, String baseName) {
        Session session = new Session(platforms, baseName);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(p -> Files.isRegularFile(p) || Files.isSymbolicLink(p)).sorted().toList();
        } catch (IOException e) {
            throw new IoFailureException("import: cannot list " + dir, e);
        }
        try {
            for (Path file : files) {
                String name = clean(dir.relativize(file).toString());
                if (Files.isSymbolicLink(file)) {
                    session.links.put(name, resolveLink(name, Files.readSymbolicLink(file).toString()));
                    continue;
                }
                long size = Files.size(file);
                session.file(name, size, w -> {
                    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                        return w.transferFrom(ch, size);
                    }
                }, () -> Files.readAllBytes(file));
            }
        } catch (IOException e) {
            session.abortCurrent();
            throw new IoFailureException("import: reading " + dir + " failed: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            session.abortCurrent();
            throw e;
        }
        return session.finish();
    }

    private static InputStream decompressIfNeeded(BufferedInputStream in) throws IOException {
        in.mark(4);
        byte[] head = in.readNBytes(4);
        in.reset();
        return switch (LayerCompression.detect(head, head.length)) {
            case GZIP -> GzipCompressorInputStream.builder().setInputStream(in).setDecompressConcatenated(true).get();
            case ZSTD -> new ZstdCompressorInputStream(in);
            default -> in;
        };
    }

    private static long copyStream(InputStream in, Writer w, long size, byte[] buffer, Tees tees) throws IOException {
        long done = 0;
        ByteBuffer wrapped = ByteBuffer.wrap(buffer);
        ImportUnpacker.Tee tee = null;
        while (done < size) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, size - done));
            if (n < 0) {
                break;
            }
            if (done == 0) {
                tee = tees.open(buffer, n);
            }
            if (tee != null) {
                tee.write(buffer, 0, n);
            }
            wrapped.clear().limit(n);
            while (wrapped.hasRemaining()) {
                w.write(wrapped);
            }
            done += n;
        }
        if (tee != null) {
            tee.end();
        }
        return done;
    }

    @FunctionalInterface
    private interface Tees {
        /** A tee for the blob starting with these bytes, or null. */
        ImportUnpacker.Tee open(byte[] head, int n);
    }

    private static byte[] readAll(InputStream in, long size, String name) throws IOException {
        byte[] bytes = in.readNBytes((int) size);
        if (bytes.length != size) {
            throw new InvalidArgumentException("import: archive entry " + name + " is truncated");
        }
        return bytes;
    }

    /** Archive path without {@code ./} or leading {@code /}, with {@code ..} resolved. */
    static String clean(String name) {
        String n = name.replace('\\', '/');
        List<String> parts = new ArrayList<>();
        for (String p : n.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                if (!parts.isEmpty()) {
                    parts.remove(parts.size() - 1);
                }
                continue;
            }
            parts.add(p);
        }
        return String.join("/", parts);
    }

    private static String resolveLink(String linkPath, String target) {
        if (target.startsWith("/")) {
            return clean(target);
        }
        int slash = linkPath.lastIndexOf('/');
        return clean(slash < 0 ? target : linkPath.substring(0, slash + 1) + target);
    }

    @FunctionalInterface
    private interface Copier {
        long copyTo(Writer writer) throws IOException;
    }

    @FunctionalInterface
    private interface Loader {
        byte[] load() throws IOException;
    }

    /** A stored archive file: its blob digest and size. */
    private record Stored(Digest digest, long size) {
    }

    private final class Session {
        private final PlatformMatcher platforms;
        private final String baseName;
        private final String id = UUID.randomUUID().toString();
        private final Map<String, byte[]> jsonFiles = new HashMap<>();
        private final Map<String, Stored> stored = new HashMap<>();
        private final Map<String, String> links = new HashMap<>();
        private final Map<Digest, Map<String, String>> labels = new LinkedHashMap<>();
        private int counter;
        private long indexBytes;
        private String currentRef;
        private ImportUnpacker unpacker;
        private ImportUnpacker.Tee currentTee;

        Session(PlatformMatcher platforms, String baseName) {
            this.platforms = Objects.requireNonNull(platforms, "platforms");
            this.baseName = baseName;
        }

        void file(String name, long size, Copier copier, Loader loader) throws IOException {
            Matcher blob = BLOB_PATH.matcher(name);
            if (blob.matches() && Digest.isSupported(blob.group(1))) {
                Digest digest;
                try {
                    digest = new Digest(blob.group(1), blob.group(2));
                } catch (InvalidArgumentException e) {
                    throw new InvalidArgumentException("import: archive entry " + name + " is not named by a valid digest");
                }
                storeKnown(name, digest, size, copier);
            } else if (isIndexDocument(name)) {
                if (size > MAX_INDEX_DOCUMENT) {
                    throw new InvalidArgumentException("import: archive entry " + name + " is " + size
                            + " bytes; index documents above " + MAX_INDEX_DOCUMENT + " bytes are refused");
                }
                indexBytes += size;
                if (indexBytes > MAX_INDEX_DOCUMENTS_TOTAL) {
                    throw new InvalidArgumentException("import: archive entry " + name + " brings the archive's "
                            + "index documents to " + indexBytes + " bytes, above the limit of "
                            + MAX_INDEX_DOCUMENTS_TOTAL);
                }
                jsonFiles.put(name, loader.load());
            } else if (name.endsWith("/json") || name.endsWith("/VERSION")) {
                // docker save's legacy v1 metadata next to each layer.tar: not needed
            } else {
                storeUnknown(name, size, copier);
            }
        }

        /** The documents that say what the archive holds; everything else (configs too) streams to content. */
        private boolean isIndexDocument(String name) {
            return name.equals("oci-layout") || name.equals("index.json") || name.equals("manifest.json")
                    || name.equals("repositories");
        }

        ImportUnpacker.Tee tee(byte[] head, int n) {
            currentTee = unpacker == null ? null : unpacker.begin(head, n);
            return currentTee;
        }

        /** The current blob is committed: its tee's apply may commit too. */
        private void verifiedCurrent() {
            ImportUnpacker.Tee tee = currentTee;
            currentTee = null;
            if (tee != null) {
                tee.verified();
            }
        }

        private String nextRef(String name) {
            return "import-" + id + "-" + (counter++) + "-" + name;
        }

        private void storeKnown(String name, Digest digest, long size, Copier copier) throws IOException {
            Descriptor expected = new Descriptor("application/octet-stream", digest, size);
            String ref = nextRef(name);
            Writer writer;
            try {
                writer = store.writer(ref, expected);
            } catch (AlreadyExistsException e) {
                skippedBlob();
                stored.put(name, new Stored(digest, size));
                return;
            }
            currentRef = ref;
            try (writer) {
                // A blob another namespace already stored opens complete (offset = size, as containerd's
                // writers do): bytes written to it would be appended, so the entry is skipped, not copied.
                boolean complete = size > 0 && writer.status().offset() == size && writer.digest().equals(digest);
                if (complete) {
                    skippedBlob();
                }
                long copied = complete ? size : copier.copyTo(writer);
                if (copied != size) {
                    throw new InvalidArgumentException("import: archive entry " + name + " ended after " + copied
                            + " of " + size + " bytes");
                }
                Digest actual = writer.digest();
                if (!actual.equals(digest)) {
                    throw BlobMismatchException.digest(expected, actual, "archive entry " + name);
                }
                try {
                    writer.commit(size, digest);
                } catch (AlreadyExistsException e) {
                    // committed meanwhile by someone else: the same bytes
                }
            } catch (RuntimeException | IOException e) {
                abortCurrent();
                throw e;
            }
            verifiedCurrent();
            currentRef = null;
            stored.put(name, new Stored(digest, size));
        }

        private void storeUnknown(String name, long size, Copier copier) throws IOException {
            String ref = nextRef(name);
            Writer writer = store.writer(ref, null);
            currentRef = ref;
            Digest digest;
            try (writer) {
                long copied = copier.copyTo(writer);
                if (copied != size) {
                    throw new InvalidArgumentException("import: archive entry " + name + " ended after " + copied
                            + " of " + size + " bytes");
                }
                digest = writer.digest();
                try {
                    writer.commit(size, digest);
                } catch (AlreadyExistsException e) {
                    // already stored
                }
            } catch (RuntimeException | IOException e) {
                abortCurrent();
                throw e;
            }
            verifiedCurrent();
            currentRef = null;
            stored.put(name, new Stored(digest, size));
        }

        /** A blob already stored was not read: the layer order is lost to the unpacker. */
        private void skippedBlob() {
            if (unpacker != null) {
                unpacker.skipped();
            }
        }

        void abortCurrent() {
            ImportUnpacker.Tee tee = currentTee;
            currentTee = null;
            if (tee != null) {
                tee.abandon();
            }
            String ref = currentRef;
            currentRef = null;
            if (ref != null) {
                try {
                    store.abort(ref);
                } catch (RuntimeException ignored) {
                    // nothing left to abort
                }
            }
        }

        List<Image> finish() {
            Map<String, Descriptor> named;
            if (jsonFiles.containsKey("oci-layout")) {
                checkLayoutVersion();
                named = finishOci();
            } else if (jsonFiles.containsKey("manifest.json")) {
                named = finishDocker();
            } else {
                throw new InvalidArgumentException("import: unrecognized archive: it has neither an OCI layout "
                        + "(oci-layout, index.json) nor a docker save manifest.json");
            }
            labels.forEach((digest, l) -> ContentLabels.add(store, digest, l));
            List<Image> out = new ArrayList<>();
            for (Map.Entry<String, Descriptor> e : named.entrySet()) {
                Image image = new Image(e.getKey(), e.getValue());
                try {
                    out.add(images.create(image));
                } catch (AlreadyExistsException exists) {
                    out.add(images.update(image, "target"));
                }
            }
            return out;
        }

        private void checkLayoutVersion() {
            try {
                JsonNode layout = Json.MAPPER.readTree(jsonFiles.get("oci-layout"));
                String version = layout.path("imageLayoutVersion").asText("");
                if (!version.equals("1.0.0")) {
                    throw new InvalidArgumentException("import: unsupported OCI layout version \"" + version
                            + "\" (expected 1.0.0)");
                }
            } catch (IOException e) {
                throw new InvalidArgumentException("import: oci-layout is not valid JSON: " + e.getMessage());
            }
        }

        private Map<String, Descriptor> finishOci() {
            byte[] indexJson = jsonFiles.get("index.json");
            if (indexJson == null) {
                throw new InvalidArgumentException("import: the OCI layout has no index.json");
            }
            Index index = OciJson.parseIndex(indexJson);
            Map<String, Descriptor> named = new LinkedHashMap<>();
            for (Descriptor root : index.manifests()) {
                String name = nameOf(root);
                check(root, name != null ? name : root.digest().toString(), 0, true);
                if (name != null) {
                    Map<String, String> annotations = new LinkedHashMap<>(root.annotations());
                    annotations.remove(OCI_NAME);
                    annotations.remove(OCI_REF_NAME);
                    named.put(name, root.withAnnotations(annotations));
                }
            }
            return named;
        }

        private String nameOf(Descriptor root) {
            String full = root.annotations().get(OCI_NAME);
            if (full != null && !full.isEmpty()) {
                return ImageReference.normalize(full);
            }
            String ref = root.annotations().get(OCI_REF_NAME);
            if (ref == null || ref.isEmpty()) {
                return null;
            }
            if (ref.contains("/") || ref.contains("@") || ref.contains(":")) {
                return ImageReference.normalize(ref);
            }
            String base = baseName != null ? baseName
                    : "import-" + LocalDate.now(ZoneOffset.UTC);
            return ImageReference.normalize(base + ":" + ref);
        }

        /** Checks that what {@code desc} needs is in the store, reading documents with size and digest checked. */
        private void check(Descriptor desc, String label, int depth, boolean required) {
            String type = desc.mediaType();
            if (MediaTypes.isIndex(type)) {
                if (depth > 8) {
                    throw new InvalidArgumentException("import: " + label + ": indexes nested too deep");
                }
                storeEmbedded(desc, "index of " + label);
                requirePresent(desc, "index of " + label);
                Index index = resolver.readIndex(desc, label);
                labels.put(desc.digest(), ContentLabels.indexChildren(
                        index.manifests().stream().map(Descriptor::digest).toList()));
                for (Descriptor child : index.manifests()) {
                    if (Resolver.isAttachment(child)) {
                        // attestations are optional: docker save and ctr export often leave them out
                        continue;
                    }
                    boolean wanted = child.platform() == null || platforms.matches(child.platform());
                    if (wanted) {
                        check(child, label, depth + 1, true);
                    }
                }
            } else if (MediaTypes.isManifest(type)) {
                storeEmbedded(desc, "manifest of " + label);
                requirePresent(desc, "manifest of " + label);
                Manifest manifest = resolver.readManifest(desc, label);
                labels.put(desc.digest(), ContentLabels.manifestChildren(manifest.config().digest(),
                        manifest.layers().stream().map(Descriptor::digest).toList()));
                storeEmbedded(manifest.config(), "config of " + label);
                if (MediaTypes.isConfig(manifest.config().mediaType())) {
                    ImageConfig config = resolver.readConfig(manifest, desc, label);
                    Resolver.checkLayers(manifest, config, desc, label);
                } else {
                    requirePresent(manifest.config(), "config of " + label);
                }
                for (int i = 0; i < manifest.layers().size(); i++) {
                    Descriptor layer = manifest.layers().get(i);
                    storeEmbedded(layer, "layer " + i + " of " + label);
                    if (MediaTypes.isNonDistributable(layer.mediaType()) && !present(layer)) {
                        // as containerd: a non-distributable (foreign) layer may be left out of an archive;
                        // the image is imported and unpacking it fails until the blob is provided
                        continue;
                    }
                    requirePresent(layer, "layer " + i + " of " + label);
                }
            } else if (required) {
                storeEmbedded(desc, label);
                requirePresent(desc, label);
            }
        }

        private boolean present(Descriptor desc) {
            try {
                store.info(desc.digest());
                return true;
            } catch (NotFoundException e) {
                return false;
            }
        }

        /** Stores a descriptor's embedded {@code data} (verified) when the archive lacks that blob. */
        private void storeEmbedded(Descriptor desc, String what) {
            if (desc.data() == null || present(desc)) {
                return;
            }
            writeSmall(desc, Blobs.embedded(desc, "import: " + what), what);
        }

        private void requirePresent(Descriptor desc, String what) {
            Info info;
            try {
                info = store.info(desc.digest());
            } catch (NotFoundException e) {
                throw new NotFoundException("import: blob " + desc.digest() + " (" + what
                        + ") is missing from the archive", e);
            }
            if (info.size() != desc.size()) {
                throw BlobMismatchException.size(desc, info.size(), what);
            }
        }

        private Map<String, Descriptor> finishDocker() {
            JsonNode manifest;
            try {
                manifest = Json.MAPPER.readTree(jsonFiles.get("manifest.json"));
            } catch (IOException e) {
                throw new InvalidArgumentException("import: manifest.json is not valid JSON: " + e.getMessage());
            }
            if (!manifest.isArray()) {
                throw new InvalidArgumentException("import: manifest.json is not a JSON array");
            }
            Map<String, Descriptor> named = new LinkedHashMap<>();
            for (int e = 0; e < manifest.size(); e++) {
                JsonNode entry = manifest.get(e);
                String label = "manifest.json entry " + e;
                List<String> tags = new ArrayList<>();
                entry.path("RepoTags").forEach(t -> tags.add(t.asText()));
                if (!tags.isEmpty()) {
                    label += " (" + String.join(", ", tags) + ")";
                }
                Descriptor manifestDesc = dockerManifest(entry, label);
                for (String tag : tags) {
                    String name;
                    try {
                        name = ImageReference.normalize(tag);
                    } catch (InvalidArgumentException ex) {
                        throw new InvalidArgumentException("import: " + label + ": " + ex.getMessage(), ex);
                    }
                    named.put(name, manifestDesc);
                }
            }
            return named;
        }

        private Descriptor dockerManifest(JsonNode entry, String label) {
            String configPath = follow(clean(entry.path("Config").asText("")));
            if (configPath.isEmpty()) {
                throw new InvalidArgumentException("import: " + label + " names no Config");
            }
            Descriptor config = dockerConfig(configPath, label);
            ImageConfig parsed = OciJson.parseImageConfig(Blobs.read(store, config, "config of " + label));
            List<Descriptor> layers = new ArrayList<>();
            JsonNode layerPaths = entry.path("Layers");
            JsonNode layerSources = entry.path("LayerSources");
            for (int i = 0; i < layerPaths.size(); i++) {
                String path = follow(clean(layerPaths.get(i).asText()));
                Stored s = stored.get(path);
                Descriptor foreign = s == null && i < parsed.diffIds().size()
                        ? layerSource(layerSources, parsed.diffIds().get(i), label) : null;
                if (foreign != null) {
                    // docker save leaves foreign layers out and describes them in LayerSources
                    layers.add(foreign);
                    continue;
                }
                if (s == null) {
                    throw new NotFoundException("import: " + label + ": layer file " + layerPaths.get(i).asText()
                            + " is missing from the archive");
                }
                String mediaType = switch (sniff(s, path)) {
                    case GZIP -> MediaTypes.DOCKER_LAYER_GZIP;
                    case ZSTD -> MediaTypes.OCI_LAYER_ZSTD;
                    default -> MediaTypes.DOCKER_LAYER;
                };
                layers.add(new Descriptor(mediaType, s.digest(), s.size()));
            }
            if (layers.size() != parsed.diffIds().size()) {
                throw new InvalidArgumentException("import: " + label + ": " + layers.size()
                        + " layers but the config " + config.digest() + " lists " + parsed.diffIds().size()
                        + " diff_ids (mismatched image rootfs and manifest layers)");
            }
            for (int i = 0; i < layers.size(); i++) {
                Descriptor layer = layers.get(i);
                if (layer.mediaType().equals(MediaTypes.DOCKER_LAYER) && !layer.digest().equals(parsed.diffIds().get(i))) {
                    // an uncompressed layer's digest is its diffID: anything else is a corrupt layer file
                    throw new BlobMismatchException(layer.digest(), BlobMismatchException.Kind.DIGEST,
                            parsed.diffIds().get(i).toString(), layer.digest().toString(),
                            "uncompressed layer " + i + " of " + label + " (its diff_id)");
                }
            }
            Manifest m = Manifest.docker(config, layers);
            byte[] bytes = OciJson.write(m);
            Descriptor desc = new Descriptor(MediaTypes.DOCKER_MANIFEST, Digest.sha256(bytes), bytes.length);
            writeSmall(desc, bytes, "manifest of " + label);
            labels.put(desc.digest(), ContentLabels.manifestChildren(config.digest(),
                    layers.stream().map(Descriptor::digest).toList()));
            return desc;
        }

        /** The descriptor docker save's {@code LayerSources} gives a (foreign) layer, or null. */
        private Descriptor layerSource(JsonNode layerSources, Digest diffId, String label) {
            JsonNode source = layerSources.get(diffId.toString());
            if (source == null || source.isNull()) {
                return null;
            }
            Descriptor d;
            try {
                d = OciJson.parseDescriptor(Json.MAPPER.writeValueAsBytes(source));
            } catch (IOException | InvalidArgumentException e) {
                throw new InvalidArgumentException("import: " + label + ": LayerSources entry " + diffId
                        + " is not a valid descriptor: " + e.getMessage());
            }
            if (!MediaTypes.isLayer(d.mediaType())) {
                throw new InvalidArgumentException("import: " + label + ": LayerSources entry " + diffId
                        + " has media type \"" + d.mediaType() + "\", which is not a layer type");
            }
            return d;
        }

        private Descriptor dockerConfig(String path, String label) {
            byte[] bytes = jsonFiles.get(path);
            if (bytes == null) {
                Stored s = stored.get(path);
                if (s == null) {
                    throw new NotFoundException("import: " + label + ": config file " + path
                            + " is missing from the archive");
                }
                checkNamedDigest(path, s.digest(), label);
                return new Descriptor(MediaTypes.DOCKER_CONFIG, s.digest(), s.size());
            }
            Descriptor desc = new Descriptor(MediaTypes.DOCKER_CONFIG, Digest.sha256(bytes), bytes.length);
            checkNamedDigest(path, desc.digest(), label);
            writeSmall(desc, bytes, "config of " + label);
            return desc;
        }

        /** docker save names a config {@code <sha256 hex>.json}: the name must match the bytes. */
        private void checkNamedDigest(String path, Digest actual, String label) {
            String file = path.substring(path.lastIndexOf('/') + 1);
            String hex = file.endsWith(".json") ? file.substring(0, file.length() - 5) : "";
            if (hex.length() == 64 && hex.matches("[a-f0-9]{64}") && !hex.equals(actual.hex())) {
                throw new BlobMismatchException(new Digest(Digest.SHA256, hex), BlobMismatchException.Kind.DIGEST,
                        "sha256:" + hex, actual.toString(), "config file " + path + " of " + label);
            }
        }

        private void writeSmall(Descriptor desc, byte[] bytes, String what) {
            String ref = nextRef(desc.digest().hex());
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
                try {
                    store.abort(ref);
                } catch (RuntimeException ignored) {
                    // gone
                }
                throw new BerthException("import: storing " + what + " failed: " + e.getMessage(), e);
            }
        }

        private MediaTypes.Compression sniff(Stored s, String path) {
            try (ReaderAt r = store.readerAt(new Descriptor("application/octet-stream", s.digest(), s.size()))) {
                ByteBuffer head = ByteBuffer.allocate(4);
                while (head.hasRemaining() && r.read(head, head.position()) > 0) {
                    // fill
                }
                return LayerCompression.detect(head.array(), head.position());
            } catch (NotFoundException e) {
                throw new NotFoundException("import: layer file " + path + " vanished from the content store", e);
            }
        }

        private String follow(String path) {
            String p = path;
            for (int i = 0; i < 16 && links.containsKey(p); i++) {
                p = links.get(p);
            }
            return p;
        }
    }
}
