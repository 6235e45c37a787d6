package dev.berth.image.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.MediaTypes;
import dev.berth.api.NotFoundException;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.content.ContentStore;
import dev.berth.api.image.Image;
import dev.berth.api.image.ImageReference;
import dev.berth.api.image.ImageStore;
import dev.berth.api.oci.image.Index;
import dev.berth.api.oci.image.Manifest;
import dev.berth.api.oci.image.OciJson;
import dev.berth.image.ResolvedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes images as an OCI image layout tar ({@code oci-layout}, {@code blobs/<alg>/<hex>},
 * {@code index.json} whose entries carry {@code io.containerd.image.name} and
 * {@code org.opencontainers.image.ref.name}) plus, optionally, Docker's {@code manifest.json} so that
 * {@code docker load} accepts it. Index blobs are written unchanged; of their children only the
 * manifests the platform matcher accepts (and their configs and layers) are included. Every blob is
 * verified against its descriptor while it is copied.
 */
public final class ArchiveExporter {
    /** Built at the first export, not with the image service. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }
    private static final byte[] OCI_LAYOUT = "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8);

    private final ContentStore store;
    private final ImageStore images;
    private final Resolver resolver;

    public ArchiveExporter(ContentStore store, ImageStore images) {
        this.store = Objects.requireNonNull(store, "store");
        this.images = Objects.requireNonNull(images, "images");
        this.resolver = new Resolver(store);
    }

    public void export(OutputStream out, List<String> names, PlatformMatcher platforms, boolean dockerManifest) {
        List<Image> roots = new ArrayList<>();
        for (String name : new LinkedHashSet<>(names)) {
            roots.add(images.get(name));
        }
        Map<Digest, Descriptor> blobs = new LinkedHashMap<>();
        for (Image image : roots) {
            collect(image.target(), image.name(), platforms, blobs, 0);
        }
        List<Descriptor> indexEntries = new ArrayList<>();
        for (Image image : roots) {
            Map<String, String> annotations = new LinkedHashMap<>(image.target().annotations());
            annotations.put("io.containerd.image.name", image.name());
            String tag = tagOf(image.name());
            if (tag != null) {
                annotations.put("org.opencontainers.image.ref.name", tag);
            }
            indexEntries.add(image.target().withAnnotations(annotations));
        }
        byte[] indexJson = OciJson.write(Index.of(indexEntries));
        byte[] manifestJson = dockerManifest ? dockerManifest(roots, platforms) : null;

        try {
            TarArchiveOutputStream tar = new TarArchiveOutputStream(new NonClosing(out), 1 << 16);
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            writeFile(tar, "oci-layout", OCI_LAYOUT);
            writeDir(tar, "blobs/");
            Set<String> algorithms = new LinkedHashSet<>();
            for (Descriptor d : blobs.values()) {
                if (algorithms.add(d.digest().algorithm())) {
                    writeDir(tar, "blobs/" + d.digest().algorithm() + "/");
                }
            }
            byte[] buffer = new byte[1 << 20];
            for (Descriptor d : blobs.values()) {
                byte[] embedded = present(d) ? null : Blobs.embedded(d, "export");
                TarArchiveEntry e = entry(blobPath(d.digest()), d.size(), 0444);
                tar.putArchiveEntry(e);
                if (embedded != null) {
                    tar.write(embedded);
                    tar.closeArchiveEntry();
                    continue;
                }
                try (InputStream in = Blobs.verifyingStream(store, d, "export")) {
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        tar.write(buffer, 0, n);
                    }
                } catch (Blobs.VerificationFailure f) {
                    throw f.mismatch();
                }
                tar.closeArchiveEntry();
            }
            writeFile(tar, "index.json", indexJson);
            if (manifestJson != null) {
                writeFile(tar, "manifest.json", manifestJson);
            }
            tar.finish();
            tar.flush();
        } catch (IOException e) {
            throw new IoFailureException("export: writing the archive failed: " + e.getMessage(), e);
        }
    }

    static String blobPath(Digest d) {
        return "blobs/" + d.algorithm() + "/" + d.hex();
    }

    private static String tagOf(String name) {
        try {
            return ImageReference.parse(name).tag();
        } catch (InvalidArgumentException e) {
            return null;
        }
    }

    private void collect(Descriptor desc, String label, PlatformMatcher platforms, Map<Digest, Descriptor> blobs,
                         int depth) {
        if (depth > 8) {
            throw new InvalidArgumentException("export: " + label + ": indexes nested too deep");
        }
        String type = desc.mediaType();
        if (MediaTypes.isIndex(type)) {
            Index index = resolver.readIndex(desc, label);
            for (Descriptor child : index.manifests()) {
                if (child.platform() != null && !platforms.matches(child.platform())) {
                    continue;
                }
                if (Resolver.isAttachment(child)) {
                    // attestations go along when they are all here, and are left out (as on import) when not
                    Map<Digest, Descriptor> attached = new LinkedHashMap<>();
                    try {
                        collect(child, label, platforms, attached, depth + 1);
                    } catch (NotFoundException missing) {
                        continue;
                    }
                    if (attached.values().stream().allMatch(this::present)) {
                        attached.forEach(blobs::putIfAbsent);
                    }
                    continue;
                }
                collect(child, label, platforms, blobs, depth + 1);
            }
        } else if (MediaTypes.isManifest(type)) {
            Manifest manifest = resolver.readManifest(desc, label);
            put(blobs, manifest.config());
            for (Descriptor layer : manifest.layers()) {
                if (MediaTypes.isNonDistributable(layer.mediaType()) && !present(layer) && layer.data() == null) {
                    continue; // a foreign layer that was never fetched: the manifest's urls say where it is
                }
                put(blobs, layer);
            }
        }
        put(blobs, desc);
    }

    private boolean present(Descriptor d) {
        try {
            store.info(d.digest());
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    private static void put(Map<Digest, Descriptor> blobs, Descriptor d) {
        blobs.putIfAbsent(d.digest(), new Descriptor(d.mediaType(), d.digest(), d.size()).withData(d.data()));
    }

    private byte[] dockerManifest(List<Image> roots, PlatformMatcher platforms) {
        Map<Digest, ObjectNode> byManifest = new LinkedHashMap<>();
        ArrayNode array = Json.MAPPER.createArrayNode();
        for (Image image : roots) {
            ResolvedImage resolved;
            try {
                resolved = resolver.resolve(image.name(), image.target(), platforms);
            } catch (NotFoundException | dev.berth.api.NotImplementedException e) {
                continue; // nothing docker can load for this name
            }
            ObjectNode node = byManifest.get(resolved.manifestDescriptor().digest());
            if (node == null) {
                node = array.addObject();
                node.put("Config", blobPath(resolved.manifest().config().digest()));
                node.putArray("RepoTags");
                ArrayNode layers = node.putArray("Layers");
                resolved.layers().forEach(l -> layers.add(blobPath(l.digest())));
                ObjectNode sources = null;
                for (int i = 0; i < resolved.layers().size(); i++) {
                    Descriptor l = resolved.layers().get(i);
                    if (MediaTypes.isNonDistributable(l.mediaType())) {
                        // docker save's way of naming foreign layers, which docker load fetches from urls
                        if (sources == null) {
                            sources = node.putObject("LayerSources");
                        }
                        try {
                            sources.set(resolved.diffIds().get(i).toString(),
                                    Json.MAPPER.readTree(OciJson.write(new Descriptor(l.mediaType(), l.digest(), l.size(),
                                            l.urls(), l.annotations(), null))));
                        } catch (IOException e) {
                            throw IoFailureException.of("export: cannot encode the layer sources", e);
                        }
                    }
                }
                byManifest.put(resolved.manifestDescriptor().digest(), node);
            }
            try {
                ImageReference ref = ImageReference.parse(image.name());
                if (ref.tag() != null) {
                    // docker load takes only name:tag here; a name:tag@digest names the same content by its tag
                    ((ArrayNode) node.get("RepoTags")).add(ref.withDigest(null).familiar());
                }
            } catch (InvalidArgumentException e) {
                // not a reference docker understands: no tag for it
            }
        }
        try {
            return Json.MAPPER.writeValueAsBytes(array);
        } catch (IOException e) {
            throw IoFailureException.of("export: cannot encode manifest.json", e);
        }
    }

    private static TarArchiveEntry entry(String name, long size, int mode) {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(size);
        e.setMode(TarArchiveEntry.DEFAULT_FILE_MODE & ~0777 | mode);
        e.setModTime(new Date(0));
        return e;
    }

    private static void writeFile(TarArchiveOutputStream tar, String name, byte[] bytes) throws IOException {
        tar.putArchiveEntry(entry(name, bytes.length, 0644));
        tar.write(bytes);
        tar.closeArchiveEntry();
    }

    private static void writeDir(TarArchiveOutputStream tar, String name) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(TarArchiveEntry.DEFAULT_DIR_MODE & ~0777 | 0755);
        e.setModTime(new Date(0));
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    /** Keeps the caller's stream open when the tar stream is finished. */
    private static final class NonClosing extends java.io.FilterOutputStream {
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
