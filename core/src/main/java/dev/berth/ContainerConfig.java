package dev.berth;

import dev.berth.api.Identifiers;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import dev.berth.api.task.RuncOptions;
import dev.berth.network.NetworkMode;
import dev.berth.network.PortMapping;
import dev.berth.runtime.spec.SpecBuilder;
import dev.berth.runtime.spec.SpecOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@link Containers#create(ContainerConfig)} makes: containerd's {@code NewContainer} with
 * {@code WithImage}, {@code WithNewSnapshot}, {@code WithNewSpec(WithImageConfig, ...)}, {@code WithRuntime}
 * and {@code WithContainerLabels}. Immutable.
 *
 * <p>The builder's setters are the container options' single definition: {@link ContainerOptions} makes
 * each of them a {@link ContainerOption} value, and {@link Builder#with} applies such values, so
 * {@code ContainerConfig.builder(id).snapshotter("native")} and
 * {@code ContainerConfig.builder(id).with(ContainerOptions.snapshotter("native"))} are the same.
 */
public final class ContainerConfig {
    private final String id;
    private final String image;
    private final String snapshotter;
    private final String runtime;
    private final RuncOptions runcOptions;
    private final Map<String, String> labels;
    private final List<SpecOption> spec;
    private final NetworkMode network;
    private final List<PortMapping> ports;
    private final List<String> aliases;

    private ContainerConfig(Builder b) {
        this.id = b.id;
        this.image = b.image;
        this.snapshotter = b.snapshotter;
        this.runtime = b.runtime;
        this.runcOptions = b.runcOptions;
        this.labels = Map.copyOf(b.labels);
        this.spec = List.copyOf(b.spec);
        this.network = b.network;
        this.ports = List.copyOf(b.ports);
        this.aliases = List.copyOf(b.aliases);
    }

    /** A builder for container {@code id}. */
    public static Builder builder(String id) {
        return new Builder(id);
    }

    public String id() {
        return id;
    }

    /** The image whose unpacked layers become the container's root file system; empty = none. */
    public Optional<String> image() {
        return Optional.ofNullable(image);
    }

    /** The snapshotter; empty = the root's default. */
    public Optional<String> snapshotter() {
        return Optional.ofNullable(snapshotter);
    }

    /** The runtime name or shim path; empty = the root's default. */
    public Optional<String> runtime() {
        return Optional.ofNullable(runtime);
    }

    public RuncOptions runcOptions() {
        return runcOptions;
    }

    public Map<String, String> labels() {
        return labels;
    }

    /** The spec options, in the order they apply (after the image's config). */
    public List<SpecOption> specOptions() {
        return spec;
    }

    /** How the container is networked ({@link NetworkMode.None} unless set). */
    public NetworkMode network() {
        return network;
    }

    /** The ports published on the host (only with a network). */
    public List<PortMapping> ports() {
        return ports;
    }

    /** The extra names peers on its network reach the container by. */
    public List<String> aliases() {
        return aliases;
    }

    /** Applies the spec options, in the order they were added. */
    void customize(SpecBuilder builder) {
        for (SpecOption o : spec) {
            o.apply(builder);
        }
    }

    /** Collects the options of a container. Not thread-safe. */
    public static final class Builder {
        private final String id;
        private String image;
        private String snapshotter;
        private String runtime;
        private RuncOptions runcOptions = RuncOptions.defaults();
        private final Map<String, String> labels = new LinkedHashMap<>();
        private final List<SpecOption> spec = new ArrayList<>();
        private NetworkMode network = NetworkMode.none();
        private final List<PortMapping> ports = new ArrayList<>();
        private final List<String> aliases = new ArrayList<>();

        private Builder(String id) {
            this.id = Identifiers.validate("container id", id);
        }

        /**
         * The image (its name as stored, or a short form such as {@code busybox}): its top layer becomes
         * the parent of the container's new snapshot and its config the defaults of the process.
         */
        public Builder image(String name) {
            this.image = Objects.requireNonNull(name, "image");
            return this;
        }

        public Builder snapshotter(String name) {
            this.snapshotter = Objects.requireNonNull(name, "snapshotter");
            return this;
        }

        /** A runtime name such as {@code io.containerd.runc.v2}, or an absolute path to a shim binary. */
        public Builder runtime(String name) {
            Objects.requireNonNull(name, "runtime");
            if (name.isBlank()) {
                throw new InvalidArgumentException("container " + id + ": runtime must not be blank");
            }
            this.runtime = name;
            return this;
        }

        /** Options of the runc shim, e.g. {@code binaryName("crun")}. */
        public Builder runcOptions(RuncOptions options) {
            this.runcOptions = Objects.requireNonNull(options, "runcOptions");
            return this;
        }

        public Builder label(String key, String value) {
            Labels.validate(key, value);
            labels.put(key, value);
            return this;
        }

        public Builder labels(Map<String, String> more) {
            more.forEach(this::label);
            return this;
        }

        /**
         * Adds spec options, applied after the image's config in the order added:
         * {@code spec(SpecOptions.args("sh"), SpecOptions.memoryLimit(64 << 20))}, or a lambda
         * {@code spec(s -> s.args("sh").env("A=1"))}.
         */
        public Builder spec(SpecOption... options) {
            return spec(List.of(options));
        }

        /** Adds spec options from a list. */
        public Builder spec(List<? extends SpecOption> options) {
            for (SpecOption o : options) {
                spec.add(Objects.requireNonNull(o, "spec option"));
            }
            return this;
        }

        /**
         * How the container is networked: {@link NetworkMode#none()} (the default: only loopback),
         * {@link NetworkMode#host()}, {@link NetworkMode#network(String)} (its own namespace on a Berth
         * network, {@code "default"} created on first use) or {@link NetworkMode#container(String)}.
         */
        public Builder network(NetworkMode mode) {
            this.network = Objects.requireNonNull(mode, "network");
            return this;
        }

        /** Publishes a container port on the host; needs a network ({@link #network}). */
        public Builder publish(PortMapping port) {
            ports.add(Objects.requireNonNull(port, "port"));
            return this;
        }

        /** Adds a name peers on the container's network reach it by. */
        public Builder alias(String alias) {
            Objects.requireNonNull(alias, "alias");
            if (!alias.matches("[A-Za-z0-9]([A-Za-z0-9.-]{0,62})")) {
                throw new InvalidArgumentException("container " + id + ": alias \"" + alias + "\" is not a host name");
            }
            aliases.add(alias);
            return this;
        }

        /** Applies container options, in order. */
        public Builder with(ContainerOption... options) {
            return with(List.of(options));
        }

        /** Applies container options from a list, in order. */
        public Builder with(List<? extends ContainerOption> options) {
            for (ContainerOption o : options) {
                o.apply(this);
            }
            return this;
        }

        public ContainerConfig build() {
            if (!(network instanceof NetworkMode.Attached) && (!ports.isEmpty() || !aliases.isEmpty())) {
                throw new InvalidArgumentException("container " + id + ": published ports and aliases need a network"
                        + " (network mode is " + network + ")");
            }
            return new ContainerConfig(this);
        }
    }
}
