package dev.berth.testing;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.testing.internal.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes an OCI image layout ({@code oci-layout}, {@code index.json}, {@code blobs/sha256/<hex>}) as a
 * directory or a tar, the way {@code ctr images export} does: each named image's descriptor in
 * {@code index.json} carries {@code io.containerd.image.name} (the full name) and
 * {@code org.opencontainers.image.ref.name} (its tag).
 *
 * <pre>{@code
 * OciLayout.Written written = OciLayout.builder()
 *         .image("docker.io/library/busybox:latest", Busybox.image())
 *         .writeTar(tempDir.resolve("busybox.tar"));
 * }</pre>
 * Output is deterministic (sorted blob entries, fixed mtimes). Not thread-safe.
 */
public final class OciLayout {
    /** Annotation with the full image name, as containerd writes it. */
    public static final String CONTAINERD_NAME = "io.containerd.image.name";
    /** Annotation with the reference name (the tag), per the OCI image layout spec. */
    public static final String OCI_REF_NAME = "org.opencontainers.image.ref.name";

    /**
     * What was written.
     *
     * @param path      the layout directory or tar file (null when written to a stream)
     * @param indexJson the {@code index.json} bytes
     * @param manifests the entries of {@code index.json} (with their name annotations)
     * @param blobs     each written blob's path relative to the layout root ({@code blobs/sha256/<hex>})
     */
    public record Written(Path path, byte[] indexJson, List<Descriptor> manifests, Map<Digest, String> blobs) {
        public Written {
            manifests = List.copyOf(manifests);
            blobs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(blobs));
        }
    }

    private final List<Descriptor> roots = new ArrayList<>();
    private final Map<Digest, byte[]> blobs = new LinkedHashMap<>();
    private final List<Digest> omitted = new ArrayList<>();

    private OciLayout() {
    }

    public static OciLayout builder() {
        return new OciLayout();
    }

    /**
     * Adds {@code content} under {@code name} (e.g. {@code docker.io/library/busybox:latest}): both the
     * containerd name and the OCI ref name (the tag, or the digest for {@code name@sha256:...}, or the
     * whole name if it has neither) are set.
     */
    public OciLayout image(String name, ImageContent content) {
        Map<String, String> annotations = new HashMap<>();
        annotations.put(CONTAINERD_NAME, name);
        annotations.put(OCI_REF_NAME, refNameOf(name));
        return entry(content, annotations);
    }

    /** Adds {@code content} with only the OCI ref name annotation (as skopeo/umoci write it). */
    public OciLayout ref(String refName, ImageContent content) {
        return entry(content, Map.of(OCI_REF_NAME, refName));
    }

    /** Adds {@code content} with the given annotations on its index.json entry (none: unnamed). */
    public OciLayout entry(ImageContent content, Map<String, String> annotations) {
        Objects.requireNonNull(content, "content");
        roots.add(content.descriptor().withAnnotations(annotations));
        blobs.putAll(content.blobs());
        return this;
    }

    /** Leaves blob {@code digest} out of the layout (to test missing-blob handling). */
    public OciLayout omitBlob(Digest digest) {
        omitted.add(Objects.requireNonNull(digest, "digest"));
        return this;
    }

    static String refNameOf(String name) {
        int at = name.indexOf('@');
        if (at >= 0) {
            return name.substring(at + 1);
        }
        int slash = name.lastIndexOf('/');
        int colon = name.lastIndexOf(':');
        return colon > slash ? name.substring(colon + 1) : name;
    }

    /** The {@code index.json} bytes. */
    public byte[] indexJson() {
        ObjectNode index = Json.object();
        index.put("schemaVersion", 2);
        index.put("mediaType", dev.berth.api.MediaTypes.OCI_INDEX);
        ArrayNode manifests = index.putArray("manifests");
        roots.forEach(d -> manifests.add(Json.descriptor(d)));
        return Json.bytes(index);
    }

    /** The {@code oci-layout} bytes. */
    public static byte[] ociLayoutFile() {
        return "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8);
    }

    private Map<Digest, byte[]> includedBlobs() {
        Map<Digest, byte[]> included = new java.util.TreeMap<>(blobs);
        omitted.forEach(included::remove);
        return included;
    }

    /** Writes the layout into {@code dir} (created if missing). */
    public Written writeDirectory(Path dir) {
        byte[] index = indexJson();
        Map<Digest, String> paths = new LinkedHashMap<>();
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve("oci-layout"), ociLayoutFile());
            for (Map.Entry<Digest, byte[]> blob : includedBlobs().entrySet()) {
                String rel = blobPath(blob.getKey());
                Path file = dir.resolve(rel);
                Files.createDirectories(file.getParent());
                Files.write(file, blob.getValue());
                paths.put(blob.getKey(), rel);
            }
            Files.write(dir.resolve("index.json"), index);
        } catch (IOException e) {
            throw new UncheckedIOException("writing OCI layout " + dir, e);
        }
        return new Written(dir, index, roots, paths);
    }

    /** Writes the layout as an uncompressed tar file ({@code oci-layout} first, then {@code index.json}, blobs). */
    public Written writeTar(Path file) {
        try (OutputStream out = Files.newOutputStream(file)) {
            return writeTar(out, file);
        } catch (IOException e) {
            throw new UncheckedIOException("writing OCI layout tar " + file, e);
        }
    }

    /** Writes the layout as a tar to {@code out} (not closed); the result's path is null. */
    public Written writeTar(OutputStream out) throws IOException {
        return writeTar(out, null);
    }

    private Written writeTar(OutputStream out, Path file) throws IOException {
        byte[] index = indexJson();
        Map<Digest, String> paths = new LinkedHashMap<>();
        LayerBuilder tar = LayerBuilder.create()
                .file("oci-layout", ociLayoutFile())
                .file("index.json", index)
                .dir("blobs")
                .dir("blobs/sha256");
        for (Map.Entry<Digest, byte[]> blob : includedBlobs().entrySet()) {
            String rel = blobPath(blob.getKey());
            if (!blob.getKey().algorithm().equals(Digest.SHA256)) {
                tar.dir("blobs/" + blob.getKey().algorithm());
            }
            tar.file(rel, blob.getValue());
            paths.put(blob.getKey(), rel);
        }
        tar.writeTar(out);
        return new Written(file, index, roots, paths);
    }

    /** {@code blobs/<algorithm>/<hex>}. */
    public static String blobPath(Digest digest) {
        return "blobs/" + digest.algorithm() + "/" + digest.hex();
    }
}
