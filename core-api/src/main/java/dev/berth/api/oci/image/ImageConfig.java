package dev.berth.api.oci.image;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.MediaTypes;
import dev.berth.api.Platform;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An image configuration blob (OCI {@code application/vnd.oci.image.config.v1+json} or Docker
 * {@code application/vnd.docker.container.image.v1+json}): the platform, the defaults a container runs
 * with ({@link Config}), the uncompressed layer digests ({@link RootFs#diffIds()}) and the history.
 * Docker-only fields ({@code container_config}, {@code docker_version}, ...) are kept in
 * {@link #extraFields()}.
 *
 * @param created null when absent
 * @param config never null; an absent {@code config} object reads as {@link Config#EMPTY}
 * @param rootfs never null; an absent {@code rootfs} reads as layers type with no diffIDs
 * @param raw the bytes this config was parsed from, or null when built in code
 */
public record ImageConfig(Instant created, String author, String architecture, String os, String osVersion,
                          List<String> osFeatures, String variant, Config config, RootFs rootfs,
                          List<History> history, Map<String, Object> extraFields, RawJson raw)
        implements OciDocument {

    static final Set<String> FIELDS = Set.of("created", "author", "architecture", "os", "os.version",
            "os.features", "variant", "config", "rootfs", "history");

    public ImageConfig {
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(os, "os");
        author = author == null ? "" : author;
        osVersion = osVersion == null ? "" : osVersion;
        osFeatures = osFeatures == null ? List.of() : List.copyOf(osFeatures);
        variant = variant == null ? "" : variant;
        config = config == null ? Config.EMPTY : config;
        rootfs = rootfs == null ? RootFs.layers(List.of()) : rootfs;
        history = history == null ? List.of() : List.copyOf(history);
        extraFields = ExtraFields.freeze(extraFields, FIELDS, "image config");
    }

    public static Builder builder(String os, String architecture) {
        return new Builder(os, architecture);
    }

    /** A builder starting from this config's values (without its raw bytes). */
    public Builder toBuilder() {
        Builder b = new Builder(os, architecture);
        b.created = created;
        b.author = author;
        b.osVersion = osVersion;
        b.osFeatures = osFeatures;
        b.variant = variant;
        b.config = config;
        b.rootfs = rootfs;
        b.history = new ArrayList<>(history);
        b.extraFields = new LinkedHashMap<>(extraFields);
        return b;
    }

    /** The platform this image is for. */
    public Platform platform() {
        return new Platform(os, architecture, variant, osVersion, osFeatures);
    }

    /** Shortcut for {@code rootfs().diffIds()}. */
    public List<Digest> diffIds() {
        return rootfs.diffIds();
    }

    /** Configs carry no media type of their own: OCI's is used. */
    @Override
    public String descriptorMediaType() {
        return MediaTypes.OCI_CONFIG;
    }

    /** A descriptor of {@link #bytes()} with the given media type (e.g. the Docker config type). */
    public Descriptor descriptor(String mediaType) {
        return raw != null ? raw.descriptor(mediaType) : Descriptor.of(mediaType, bytes());
    }

    /**
     * The execution defaults (JSON {@code config}); Docker spells the field names with capitals
     * ({@code User}, {@code Env}, ...), which OCI kept.
     *
     * @param exposedPorts {@code "80/tcp"} etc. (JSON: an object whose values are {@code {}})
     * @param volumes container paths (JSON: an object whose values are {@code {}})
     * @param extraFields unknown fields such as Docker's {@code Hostname} or {@code Healthcheck}
     */
    public record Config(String user, Set<String> exposedPorts, List<String> env, List<String> entrypoint,
                         List<String> cmd, Set<String> volumes, String workingDir, Map<String, String> labels,
                         String stopSignal, Map<String, Object> extraFields) {
        public static final Config EMPTY = new Config(null, null, null, null, null, null, null, null, null, null);

        static final Set<String> FIELDS = Set.of("User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes",
                "WorkingDir", "Labels", "StopSignal");

        public Config {
            user = user == null ? "" : user;
            exposedPorts = exposedPorts == null ? Set.of() : Collections.unmodifiableSet(new LinkedHashSet<>(exposedPorts));
            env = env == null ? List.of() : List.copyOf(env);
            entrypoint = entrypoint == null ? List.of() : List.copyOf(entrypoint);
            cmd = cmd == null ? List.of() : List.copyOf(cmd);
            volumes = volumes == null ? Set.of() : Collections.unmodifiableSet(new LinkedHashSet<>(volumes));
            workingDir = workingDir == null ? "" : workingDir;
            labels = labels == null ? Map.of() : Map.copyOf(labels);
            stopSignal = stopSignal == null ? "" : stopSignal;
            extraFields = ExtraFields.freeze(extraFields, FIELDS, "image config.config");
        }

        public Config withEnv(List<String> newEnv) {
            return new Config(user, exposedPorts, newEnv, entrypoint, cmd, volumes, workingDir, labels, stopSignal,
                    extraFields);
        }

        public Config withEntrypoint(List<String> newEntrypoint) {
            return new Config(user, exposedPorts, env, newEntrypoint, cmd, volumes, workingDir, labels, stopSignal,
                    extraFields);
        }

        public Config withCmd(List<String> newCmd) {
            return new Config(user, exposedPorts, env, entrypoint, newCmd, volumes, workingDir, labels, stopSignal,
                    extraFields);
        }

        public Config withUser(String newUser) {
            return new Config(newUser, exposedPorts, env, entrypoint, cmd, volumes, workingDir, labels, stopSignal,
                    extraFields);
        }

        public Config withWorkingDir(String newWorkingDir) {
            return new Config(user, exposedPorts, env, entrypoint, cmd, volumes, newWorkingDir, labels, stopSignal,
                    extraFields);
        }

        public Config withLabels(Map<String, String> newLabels) {
            return new Config(user, exposedPorts, env, entrypoint, cmd, volumes, workingDir, newLabels, stopSignal,
                    extraFields);
        }
    }

    /** {@code rootfs}: {@code type} is {@code layers}; {@code diff_ids} are the uncompressed layer digests. */
    public record RootFs(String type, List<Digest> diffIds, Map<String, Object> extraFields) {
        static final Set<String> FIELDS = Set.of("type", "diff_ids");

        public RootFs {
            Objects.requireNonNull(type, "type");
            diffIds = diffIds == null ? List.of() : List.copyOf(diffIds);
            extraFields = ExtraFields.freeze(extraFields, FIELDS, "image config.rootfs");
        }

        public static RootFs layers(List<Digest> diffIds) {
            return new RootFs("layers", diffIds, Map.of());
        }
    }

    /**
     * One history entry; {@code emptyLayer} entries (ENV, CMD, ...) have no layer in {@code diff_ids}.
     *
     * @param created null when absent
     */
    public record History(Instant created, String createdBy, String author, String comment, boolean emptyLayer,
                          Map<String, Object> extraFields) {
        static final Set<String> FIELDS = Set.of("created", "created_by", "author", "comment", "empty_layer");

        public History {
            createdBy = createdBy == null ? "" : createdBy;
            author = author == null ? "" : author;
            comment = comment == null ? "" : comment;
            extraFields = ExtraFields.freeze(extraFields, FIELDS, "image config.history");
        }

        public History(Instant created, String createdBy, boolean emptyLayer) {
            this(created, createdBy, "", "", emptyLayer, Map.of());
        }
    }

    /** Builds an {@link ImageConfig}; not thread-safe. */
    public static final class Builder {
        private final String os;
        private final String architecture;
        private Instant created;
        private String author = "";
        private String osVersion = "";
        private List<String> osFeatures = List.of();
        private String variant = "";
        private Config config = Config.EMPTY;
        private RootFs rootfs = RootFs.layers(List.of());
        private List<History> history = new ArrayList<>();
        private Map<String, Object> extraFields = new LinkedHashMap<>();

        private Builder(String os, String architecture) {
            this.os = Objects.requireNonNull(os, "os");
            this.architecture = Objects.requireNonNull(architecture, "architecture");
        }

        public Builder created(Instant value) {
            this.created = value;
            return this;
        }

        public Builder author(String value) {
            this.author = value;
            return this;
        }

        public Builder variant(String value) {
            this.variant = value;
            return this;
        }

        public Builder osVersion(String value) {
            this.osVersion = value;
            return this;
        }

        public Builder osFeatures(List<String> value) {
            this.osFeatures = value;
            return this;
        }

        public Builder config(Config value) {
            this.config = value;
            return this;
        }

        public Builder rootfs(RootFs value) {
            this.rootfs = value;
            return this;
        }

        /** Sets {@code rootfs} to type {@code layers} with these diffIDs. */
        public Builder diffIds(List<Digest> value) {
            this.rootfs = RootFs.layers(value);
            return this;
        }

        public Builder history(List<History> value) {
            this.history = new ArrayList<>(value);
            return this;
        }

        public Builder addHistory(History entry) {
            this.history.add(Objects.requireNonNull(entry, "history entry"));
            return this;
        }

        /** An extra top-level JSON field (plain Java JSON value). */
        public Builder extraField(String name, Object value) {
            this.extraFields.put(name, value);
            return this;
        }

        public ImageConfig build() {
            return new ImageConfig(created, author, architecture, os, osVersion, osFeatures, variant, config, rootfs,
                    history, extraFields, null);
        }
    }
}
