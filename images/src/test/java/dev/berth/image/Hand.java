package dev.berth.image;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.MediaTypes;
import dev.berth.api.Platform;
import dev.berth.testing.LayerBuilder;
import dev.berth.testing.TestLayer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Hand-built image documents and archives with exact JSON and exact tar entry names, shaped like the
 * output of real tools (docker save, podman, skopeo, ctr, buildx), for conformance tests.
 */
final class Hand {
    static final String EMPTY_JSON_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    private Hand() {
    }

    /** A blob: its media type (as the referring descriptor will say) and bytes. */
    record Blob(String mediaType, byte[] bytes) {
        static Blob json(String mediaType, String json) {
            return new Blob(mediaType, json.getBytes(StandardCharsets.UTF_8));
        }

        Digest digest() {
            return Digest.sha256(bytes);
        }

        String hex() {
            return digest().hex();
        }

        long size() {
            return bytes.length;
        }

        Descriptor descriptor() {
            return new Descriptor(mediaType, digest(), bytes.length);
        }

        /** {@code blobs/sha256/<hex>}. */
        String path() {
            return "blobs/sha256/" + hex();
        }

        /** The descriptor JSON object. */
        String ref() {
            return ref("");
        }

        /** The descriptor JSON object with {@code extra} (e.g. {@code "platform":{...}}) appended. */
        String ref(String extra) {
            return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + digest() + "\",\"size\":" + bytes.length
                    + (extra.isEmpty() ? "" : "," + extra) + "}";
        }

        String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        Blob as(String newMediaType) {
            return new Blob(newMediaType, bytes);
        }
    }

    static String platform(String os, String arch, String variant) {
        return "\"platform\":{\"architecture\":\"" + arch + "\",\"os\":\"" + os + "\""
                + (variant == null || variant.isEmpty() ? "" : ",\"variant\":\"" + variant + "\"") + "}";
    }

    static String platform(Platform p) {
        return platform(p.os(), p.architecture(), p.variant());
    }

    static TestLayer layer(String file, String content, MediaTypes.Compression compression) {
        return LayerBuilder.create().dir("etc").file("etc/" + file, content).build(compression);
    }

    static Blob layerBlob(TestLayer layer, String mediaType) {
        return new Blob(mediaType, layer.blob());
    }

    /** An image config like Docker writes it, with {@code extra} top-level fields appended. */
    static Blob config(String mediaType, Platform p, List<TestLayer> layers, String extra) {
        String diffIds = layers.stream().map(l -> "\"" + l.diffId() + "\"").collect(Collectors.joining(","));
        String json = "{\"architecture\":\"" + p.architecture() + "\""
                + (p.variant().isEmpty() ? "" : ",\"variant\":\"" + p.variant() + "\"")
                + ",\"config\":{\"Env\":[\"PATH=/usr/bin:/bin\"],\"Cmd\":[\"sh\"]},\"created\":\"2024-01-02T03:04:05.123456789Z\""
                + ",\"os\":\"" + p.os() + "\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + diffIds + "]}"
                + (extra.isEmpty() ? "" : "," + extra) + "}";
        return Blob.json(mediaType, json);
    }

    static Blob manifest(String mediaType, Blob config, List<Blob> layers, String extra) {
        String json = "{\"schemaVersion\":2,\"mediaType\":\"" + mediaType + "\",\"config\":" + config.ref()
                + ",\"layers\":[" + layers.stream().map(Blob::ref).collect(Collectors.joining(",")) + "]"
                + (extra.isEmpty() ? "" : "," + extra) + "}";
        return Blob.json(mediaType, json);
    }

    static Blob index(String mediaType, List<String> entries, String extra) {
        String json = "{\"schemaVersion\":2,\"mediaType\":\"" + mediaType + "\",\"manifests\":["
                + String.join(",", entries) + "]" + (extra.isEmpty() ? "" : "," + extra) + "}";
        return Blob.json(mediaType, json);
    }

    /** An OCI image: layers, config and manifest, for a platform. */
    record Image(Blob manifest, Blob config, List<Blob> layers, List<TestLayer> testLayers) {
        List<Blob> blobs() {
            List<Blob> all = new ArrayList<>(layers);
            all.add(config);
            all.add(manifest);
            return all;
        }

        List<Digest> chainIds() {
            return dev.berth.api.oci.image.ChainIds.chainIds(testLayers.stream().map(TestLayer::diffId).toList());
        }
    }

    static Image ociImage(Platform p, List<TestLayer> layers) {
        List<Blob> blobs = layers.stream().map(l -> layerBlob(l, l.ociMediaType())).toList();
        Blob config = config(MediaTypes.OCI_CONFIG, p, layers, "");
        return new Image(manifest(MediaTypes.OCI_MANIFEST, config, blobs, ""), config, blobs, layers);
    }

    /** Writes tar archives entry by entry, names exactly as given. */
    static final class Tar {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes);

        Tar() {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        }

        Tar dir(String name) {
            TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
            e.setModTime(new Date(0));
            return put(e, null);
        }

        Tar file(String name, byte[] content) {
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setSize(content.length);
            e.setModTime(new Date(0));
            return put(e, content);
        }

        Tar file(String name, String content) {
            return file(name, content.getBytes(StandardCharsets.UTF_8));
        }

        /** {@code blobs/sha256/<hex>} (with {@code prefix}, e.g. {@code ./}). */
        Tar blob(String prefix, Blob blob) {
            return file(prefix + blob.path(), blob.bytes());
        }

        Tar blobs(String prefix, List<Blob> blobs) {
            blobs.forEach(b -> blob(prefix, b));
            return this;
        }

        Tar symlink(String name, String target) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
            e.setLinkName(target);
            e.setModTime(new Date(0));
            return put(e, null);
        }

        Tar hardlink(String name, String target) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_LINK);
            e.setLinkName(target);
            e.setModTime(new Date(0));
            return put(e, null);
        }

        Tar ociLayout(String prefix) {
            return file(prefix + "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
        }

        private Tar put(TarArchiveEntry e, byte[] content) {
            try {
                tar.putArchiveEntry(e);
                if (content != null) {
                    tar.write(content);
                }
                tar.closeArchiveEntry();
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
            return this;
        }

        byte[] bytes() {
            try {
                tar.finish();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return bytes.toByteArray();
        }

        Path write(Path file) {
            try {
                Files.write(file, bytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return file;
        }
    }
}
