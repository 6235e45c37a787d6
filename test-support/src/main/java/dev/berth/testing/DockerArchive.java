package dev.berth.testing;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.Digest;
import dev.berth.testing.internal.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes a {@code docker save} tar: {@code <layerId>/layer.tar} (+ {@code VERSION}, {@code json}) per
 * layer position, {@code <configHex>.json}, {@code manifest.json}
 * ({@code [{"Config", "RepoTags", "Layers"}]}) and {@code repositories}.
 *
 * <p>A layer directory's id is the chain ID of its position, so images sharing base layers share
 * directories. When the same layer occurs again at another position its {@code layer.tar} is written
 * again, or, with {@link #symlinkDuplicateLayers()}, becomes a symlink to the first copy as Docker
 * does. Layers are written uncompressed unless {@link #compressedLayers()}. Deterministic; not
 * thread-safe.
 */
public final class DockerArchive {
    /** One element of {@code manifest.json} and the image it describes. */
    public record Entry(TestImage image, String config, List<String> repoTags, List<String> layers) {
        public Entry {
            repoTags = List.copyOf(repoTags);
            layers = List.copyOf(layers);
        }
    }

    /**
     * What was written.
     *
     * @param path         the tar file (null when written to a stream)
     * @param manifestJson the {@code manifest.json} bytes
     * @param entries      its elements
     * @param symlinks     {@code layer.tar} paths written as symlinks, to their link targets
     */
    public record Written(Path path, byte[] manifestJson, List<Entry> entries, Map<String, String> symlinks) {
        public Written {
            entries = List.copyOf(entries);
            symlinks = Map.copyOf(symlinks);
        }
    }

    private final List<TestImage> images = new ArrayList<>();
    private final List<List<String>> tags = new ArrayList<>();
    private boolean symlinkDuplicates;
    private boolean compressed;

    private DockerArchive() {
    }

    public static DockerArchive builder() {
        return new DockerArchive();
    }

    /** Adds an image with its repo tags (e.g. {@code busybox:latest}; none = untagged). */
    public DockerArchive image(TestImage image, String... repoTags) {
        images.add(Objects.requireNonNull(image, "image"));
        tags.add(List.of(repoTags));
        return this;
    }

    /** Writes a repeated layer as a symlink to its first {@code layer.tar}, as {@code docker save} does. */
    public DockerArchive symlinkDuplicateLayers() {
        this.symlinkDuplicates = true;
        return this;
    }

    /** Stores each layer's blob (as compressed as it is) instead of the uncompressed tar. */
    public DockerArchive compressedLayers() {
        this.compressed = true;
        return this;
    }

    public Written write(Path file) {
        try (OutputStream out = Files.newOutputStream(file)) {
            return write(out, file);
        } catch (IOException e) {
            throw new UncheckedIOException("writing docker archive " + file, e);
        }
    }

    /** Writes the archive to {@code out} (not closed); the result's path is null. */
    public Written write(OutputStream out) throws IOException {
        return write(out, null);
    }

    private Written write(OutputStream out, Path file) throws IOException {
        LayerBuilder tar = LayerBuilder.create();
        Set<String> writtenDirs = new HashSet<>();
        Set<String> writtenConfigs = new HashSet<>();
        Map<Digest, String> firstCopy = new HashMap<>();
        Map<String, String> symlinks = new LinkedHashMap<>();
        Map<String, Map<String, String>> repositories = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        ArrayNode manifest = Json.array();

        for (int i = 0; i < images.size(); i++) {
            TestImage image = images.get(i);
            List<Digest> chain = image.chainIds();
            List<String> layerPaths = new ArrayList<>();
            for (int l = 0; l < image.layers().size(); l++) {
                TestLayer layer = image.layers().get(l);
                String id = chain.get(l).hex();
                String layerPath = id + "/layer.tar";
                layerPaths.add(layerPath);
                if (!writtenDirs.add(id)) {
                    continue;
                }
                tar.dir(id);
                tar.file(id + "/VERSION", "1.0");
                ObjectNode v1 = Json.object();
                v1.put("id", id);
                if (l > 0) {
                    v1.put("parent", chain.get(l - 1).hex());
                }
                tar.file(id + "/json", Json.bytes(v1));
                String first = firstCopy.get(layer.diffId());
                if (first != null && symlinkDuplicates) {
                    String target = "../" + first;
                    tar.symlink(layerPath, target);
                    symlinks.put(layerPath, target);
                } else {
                    tar.file(layerPath, compressed ? layer.blob() : layer.tar());
                    firstCopy.putIfAbsent(layer.diffId(), layerPath);
                }
            }
            String config = image.config().digest().hex() + ".json";
            if (writtenConfigs.add(config)) {
                tar.file(config, image.configBytes());
            }
            List<String> repoTags = tags.get(i);
            ObjectNode element = manifest.addObject();
            element.put("Config", config);
            if (repoTags.isEmpty()) {
                element.putNull("RepoTags");
            } else {
                ArrayNode t = element.putArray("RepoTags");
                repoTags.forEach(t::add);
            }
            ArrayNode layers = element.putArray("Layers");
            layerPaths.forEach(layers::add);
            entries.add(new Entry(image, config, repoTags, layerPaths));
            if (!chain.isEmpty()) {
                for (String tag : repoTags) {
                    int slash = tag.lastIndexOf('/');
                    int colon = tag.lastIndexOf(':');
                    String repo = colon > slash ? tag.substring(0, colon) : tag;
                    String t = colon > slash ? tag.substring(colon + 1) : "latest";
                    repositories.computeIfAbsent(repo, r -> new LinkedHashMap<>())
                            .put(t, chain.get(chain.size() - 1).hex());
                }
            }
        }
        byte[] manifestJson = Json.bytes(manifest);
        tar.file("manifest.json", manifestJson);
        ObjectNode repos = Json.object();
        repositories.forEach((repo, byTag) -> repos.set(repo, Json.sortedMap(byTag)));
        tar.file("repositories", Json.bytes(repos));
        tar.writeTar(out);
        return new Written(file, manifestJson, entries, symlinks);
    }
}
