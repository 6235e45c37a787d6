package dev.berth.testing;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.MediaTypes;
import dev.berth.api.Platform;
import dev.berth.testing.internal.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Builds a single-platform image (manifest + config + layers) in memory.
 *
 * <pre>{@code
 * TestImage image = TestImageBuilder.create()
 *         .platform(Platform.parse("linux/arm64"))
 *         .layer(LayerBuilder.create().file("hello", "hi").build())
 *         .entrypoint("/bin/sh").env("PATH=/bin")
 *         .build();
 * }</pre>
 *
 * <p>The config carries {@code architecture}, {@code os}, {@code variant}, {@code created},
 * {@code config} ({@code User}, {@code Env}, {@code Entrypoint}, {@code Cmd}, {@code WorkingDir},
 * {@code Labels} when set), {@code rootfs} (diffIDs of the layers) and {@code history} (one entry per
 * layer unless {@link #history} was called). Output is deterministic. Not thread-safe.
 */
public final class TestImageBuilder {
    /** The {@code created} time of configs and history unless {@link #created} changes it. */
    public static final Instant DEFAULT_CREATED = TarEntry.DEFAULT_MTIME;

    private Platform platform = new Platform("linux", "amd64");
    private final List<TestLayer> layers = new ArrayList<>();
    private List<String> entrypoint;
    private List<String> cmd;
    private final List<String> env = new ArrayList<>();
    private String workingDir;
    private String user;
    private final Map<String, String> labels = new LinkedHashMap<>();
    private final Map<String, String> annotations = new LinkedHashMap<>();
    private final List<String[]> history = new ArrayList<>();
    private Instant created = DEFAULT_CREATED;
    private boolean docker;
    private byte[] rawConfig;

    private TestImageBuilder() {
    }

    public static TestImageBuilder create() {
        return new TestImageBuilder();
    }

    /** The image's platform (default {@code linux/amd64}). */
    public TestImageBuilder platform(Platform newPlatform) {
        this.platform = Objects.requireNonNull(newPlatform, "platform");
        return this;
    }

    /** Appends a layer (the first one added is the lowest). */
    public TestImageBuilder layer(TestLayer layer) {
        layers.add(Objects.requireNonNull(layer, "layer"));
        return this;
    }

    public TestImageBuilder entrypoint(String... args) {
        this.entrypoint = List.of(args);
        return this;
    }

    public TestImageBuilder cmd(String... args) {
        this.cmd = List.of(args);
        return this;
    }

    /** Appends environment entries ({@code NAME=value}). */
    public TestImageBuilder env(String... entries) {
        env.addAll(Arrays.asList(entries));
        return this;
    }

    public TestImageBuilder workingDir(String dir) {
        this.workingDir = dir;
        return this;
    }

    /** The {@code User} field, e.g. {@code "app"}, {@code "1000:1000"}. */
    public TestImageBuilder user(String newUser) {
        this.user = newUser;
        return this;
    }

    /** Adds a config label ({@code config.Labels}). */
    public TestImageBuilder label(String key, String value) {
        labels.put(key, value);
        return this;
    }

    /** Adds a manifest annotation. */
    public TestImageBuilder annotation(String key, String value) {
        annotations.put(key, value);
        return this;
    }

    /** The config's {@code created} and history times. */
    public TestImageBuilder created(Instant time) {
        this.created = Objects.requireNonNull(time, "time");
        return this;
    }

    /**
     * Appends a history entry; once called, no history is generated, so add one non-empty entry per
     * layer to stay consistent (or deliberately not).
     */
    public TestImageBuilder history(String createdBy, boolean emptyLayer) {
        history.add(new String[] {createdBy, Boolean.toString(emptyLayer)});
        return this;
    }

    /**
     * Uses Docker schema2 media types (manifest {@code ...distribution.manifest.v2+json}, config
     * {@code ...container.image.v1+json}, layers {@code ...rootfs.diff.tar.gzip}) instead of OCI's.
     */
    public TestImageBuilder dockerMediaTypes() {
        this.docker = true;
        return this;
    }

    /**
     * Uses {@code config} verbatim as the config blob, e.g. one whose diff_ids do not match the layers.
     * The other config options are then ignored; {@link TestImage#diffIds()} still lists the layers' real
     * diffIDs.
     */
    public TestImageBuilder rawConfig(byte[] config) {
        this.rawConfig = config.clone();
        return this;
    }

    public TestImage build() {
        List<Digest> diffIds = layers.stream().map(TestLayer::diffId).toList();
        byte[] configBytes = rawConfig != null ? rawConfig : Json.bytes(configJson(diffIds));
        Descriptor config = new Descriptor(docker ? MediaTypes.DOCKER_CONFIG : MediaTypes.OCI_CONFIG,
                Digest.sha256(configBytes), configBytes.length);
        List<Descriptor> layerDescriptors = layers.stream()
                .map(l -> new Descriptor(docker ? l.dockerMediaType() : l.ociMediaType(), l.digest(), l.size()))
                .toList();

        String manifestType = docker ? MediaTypes.DOCKER_MANIFEST : MediaTypes.OCI_MANIFEST;
        ObjectNode manifest = Json.object();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", manifestType);
        manifest.set("config", Json.descriptor(config));
        ArrayNode layerArray = manifest.putArray("layers");
        layerDescriptors.forEach(d -> layerArray.add(Json.descriptor(d)));
        if (!annotations.isEmpty()) {
            manifest.set("annotations", Json.sortedMap(annotations));
        }
        byte[] manifestBytes = Json.bytes(manifest);
        Descriptor descriptor = new Descriptor(manifestType, Digest.sha256(manifestBytes), manifestBytes.length);
        return new TestImage(platform, descriptor, manifestBytes, config, configBytes, layers, layerDescriptors,
                diffIds);
    }

    private ObjectNode configJson(List<Digest> diffIds) {
        ObjectNode root = Json.object();
        root.put("created", created.toString());
        root.put("architecture", platform.architecture());
        if (!platform.variant().isEmpty()) {
            root.put("variant", platform.variant());
        }
        root.put("os", platform.os());
        if (!platform.osVersion().isEmpty()) {
            root.put("os.version", platform.osVersion());
        }
        ObjectNode config = root.putObject("config");
        if (user != null) {
            config.put("User", user);
        }
        if (!env.isEmpty()) {
            ArrayNode a = config.putArray("Env");
            env.forEach(a::add);
        }
        if (entrypoint != null) {
            ArrayNode a = config.putArray("Entrypoint");
            entrypoint.forEach(a::add);
        }
        if (cmd != null) {
            ArrayNode a = config.putArray("Cmd");
            cmd.forEach(a::add);
        }
        if (workingDir != null) {
            config.put("WorkingDir", workingDir);
        }
        if (!labels.isEmpty()) {
            config.set("Labels", Json.sortedMap(labels));
        }
        ObjectNode rootfs = root.putObject("rootfs");
        rootfs.put("type", "layers");
        ArrayNode ids = rootfs.putArray("diff_ids");
        diffIds.forEach(d -> ids.add(d.toString()));
        ArrayNode hist = root.putArray("history");
        if (history.isEmpty()) {
            for (int i = 0; i < layers.size(); i++) {
                ObjectNode h = hist.addObject();
                h.put("created", created.toString());
                h.put("created_by", "berth test-support layer " + i);
            }
        } else {
            for (String[] h : history) {
                ObjectNode node = hist.addObject();
                node.put("created", created.toString());
                node.put("created_by", h[0]);
                if (Boolean.parseBoolean(h[1])) {
                    node.put("empty_layer", true);
                }
            }
        }
        return root;
    }
}
