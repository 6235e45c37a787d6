package dev.berth;

import dev.berth.api.Identifiers;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.oci.runtime.Mount;
import dev.berth.runtime.RuncOptions;
import dev.berth.runtime.Stdio;
import dev.berth.runtime.spec.SpecBuilder;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * How {@link Namespace#run} and {@link Namespace#runAndWait} run an image: {@code ctr run}'s options.
 * Unset options come from the image's config (args, env, working directory, user) or containerd's
 * defaults. Immutable; build with {@link #builder()}.
 */
public final class RunOptions {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String id;
    private final List<String> args;
    private final List<String> env;
    private final String cwd;
    private final String user;
    private final String hostname;
    private final List<Consumer<SpecBuilder>> mounts;
    private final Long memory;
    private final boolean hostNetwork;
    private final boolean tty;
    private final boolean rm;
    private final Stdio stdio;
    private final byte[] stdin;
    private final String snapshotter;
    private final String runtime;
    private final RuncOptions runcOptions;
    private final Map<String, String> labels;
    private final List<Consumer<SpecBuilder>> spec;

    private RunOptions(Builder b) {
        this.id = b.id != null ? b.id : generatedId();
        this.args = b.args;
        this.env = List.copyOf(b.env);
        this.cwd = b.cwd;
        this.user = b.user;
        this.hostname = b.hostname;
        this.mounts = List.copyOf(b.mounts);
        this.memory = b.memory;
        this.hostNetwork = b.hostNetwork;
        this.tty = b.tty;
        this.rm = b.rm;
        this.stdio = b.stdio;
        this.stdin = b.stdin;
        this.snapshotter = b.snapshotter;
        this.runtime = b.runtime;
        this.runcOptions = b.runcOptions;
        this.labels = Map.copyOf(b.labels);
        this.spec = List.copyOf(b.spec);
    }

    private static String generatedId() {
        byte[] r = new byte[6];
        RANDOM.nextBytes(r);
        return "run-" + HexFormat.of().formatHex(r);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The container (and task) id: the one given or a generated {@code run-<hex>}. */
    public String id() {
        return id;
    }

    /** The whole argv; null = the image's {@code Entrypoint + Cmd}. */
    public List<String> args() {
        return args;
    }

    public boolean rm() {
        return rm;
    }

    public boolean tty() {
        return tty;
    }

    /** Where {@link Namespace#run}'s task's stdio goes (default: discarded). */
    public Stdio stdio() {
        return stdio;
    }

    /** What {@link Namespace#runAndWait} feeds to the process's stdin (null: nothing). */
    public byte[] stdin() {
        return stdin == null ? null : stdin.clone();
    }

    /** The container a run of {@code image} (null: none, the spec names the root) with these options creates. */
    public ContainerConfig containerConfig(String image) {
        ContainerConfig.Builder b = ContainerConfig.builder(id).labels(labels).runcOptions(runcOptions);
        if (image != null) {
            b.image(image);
        }
        if (snapshotter != null) {
            b.snapshotter(snapshotter);
        }
        if (runtime != null) {
            b.runtime(runtime);
        }
        b.spec(s -> {
            if (args != null) {
                s.args(args);
            }
            if (!env.isEmpty()) {
                s.env(env.toArray(String[]::new));
            }
            if (cwd != null) {
                s.cwd(cwd);
            }
            if (user != null) {
                s.user(user);
            }
            s.hostname(hostname != null ? hostname : id);
            mounts.forEach(m -> m.accept(s));
            if (memory != null) {
                s.memoryLimit(memory);
            }
            if (hostNetwork) {
                s.hostNetwork(true);
            }
            if (tty) {
                s.terminal(true);
            }
        });
        spec.forEach(b::spec);
        return b.build();
    }

    /** Collects run options; each is checked when set. Not thread-safe. */
    public static final class Builder {
        private String id;
        private List<String> args;
        private final List<String> env = new ArrayList<>();
        private String cwd;
        private String user;
        private String hostname;
        private final List<Consumer<SpecBuilder>> mounts = new ArrayList<>();
        private Long memory;
        private boolean hostNetwork;
        private boolean tty;
        private boolean rm;
        private Stdio stdio = Stdio.nullIO();
        private byte[] stdin;
        private String snapshotter;
        private String runtime;
        private RuncOptions runcOptions = RuncOptions.defaults();
        private final Map<String, String> labels = new LinkedHashMap<>();
        private final List<Consumer<SpecBuilder>> spec = new ArrayList<>();

        private Builder() {
        }

        /** The container id (default: generated). */
        public Builder id(String newId) {
            this.id = Identifiers.validate("container id", newId);
            return this;
        }

        /** The process's whole argv, replacing the image's entrypoint and command (as {@code ctr run}). */
        public Builder args(String... newArgs) {
            return args(Arrays.asList(newArgs));
        }

        public Builder args(List<String> newArgs) {
            Objects.requireNonNull(newArgs, "args");
            if (newArgs.isEmpty()) {
                throw new InvalidArgumentException("args must not be empty (leave them unset to use the image's)");
            }
            this.args = List.copyOf(newArgs);
            return this;
        }

        /** Adds environment entries {@code NAME=value} (or {@code NAME} to unset), applied over the image's. */
        public Builder env(String... entries) {
            for (String e : entries) {
                if (e == null || e.isEmpty() || e.startsWith("=")) {
                    throw new InvalidArgumentException("bad environment entry \"" + e + "\": use NAME=value");
                }
                env.add(e);
            }
            return this;
        }

        public Builder env(String name, String value) {
            return env(name + "=" + Objects.requireNonNull(value, "value"));
        }

        public Builder cwd(String dir) {
            this.cwd = Objects.requireNonNull(dir, "cwd");
            return this;
        }

        /** {@code uid}, {@code uid:gid}, {@code name} or {@code name:group} (names from the image's files). */
        public Builder user(String newUser) {
            this.user = Objects.requireNonNull(newUser, "user");
            return this;
        }

        /** The container's hostname (default: its id). */
        public Builder hostname(String name) {
            this.hostname = Objects.requireNonNull(name, "hostname");
            return this;
        }

        /** Bind-mounts host path {@code source} at {@code destination}. */
        public Builder bindMount(Path source, String destination, boolean readOnly) {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(destination, "destination");
            mounts.add(s -> s.bindMount(source, destination, readOnly));
            return this;
        }

        /** Adds a mount to the spec (type, source, destination, options). */
        public Builder mount(Mount mount) {
            Objects.requireNonNull(mount, "mount");
            mounts.add(s -> s.mount(mount));
            return this;
        }

        /** The memory limit in bytes. */
        public Builder memory(long bytes) {
            if (bytes <= 0) {
                throw new InvalidArgumentException("memory limit must be positive, got " + bytes);
            }
            this.memory = bytes;
            return this;
        }

        /** Share the host's network namespace instead of getting an empty one (only loopback). */
        public Builder hostNetwork(boolean host) {
            this.hostNetwork = host;
            return this;
        }

        /** Give the process a terminal. */
        public Builder tty(boolean newTty) {
            this.tty = newTty;
            return this;
        }

        /**
         * Delete the task and container (with its snapshot) once the process has exited. Such a container is
         * ephemeral: its records are written without waiting for the disk, so after a power loss (not a
         * crash of the JVM) it may be gone, as it would be once its process had exited.
         */
        public Builder rm(boolean remove) {
            this.rm = remove;
            return this;
        }

        /** Where {@link Namespace#run}'s output goes (default {@link Stdio#nullIO()}). */
        public Builder stdio(Stdio newStdio) {
            this.stdio = Objects.requireNonNull(newStdio, "stdio");
            return this;
        }

        /** Input for {@link Namespace#runAndWait}. */
        public Builder stdin(byte[] input) {
            this.stdin = Objects.requireNonNull(input, "stdin").clone();
            return this;
        }

        public Builder snapshotter(String name) {
            this.snapshotter = Objects.requireNonNull(name, "snapshotter");
            return this;
        }

        public Builder runtime(String name) {
            this.runtime = Objects.requireNonNull(name, "runtime");
            return this;
        }

        public Builder runcOptions(RuncOptions options) {
            this.runcOptions = Objects.requireNonNull(options, "runcOptions");
            return this;
        }

        public Builder label(String key, String value) {
            dev.berth.api.Labels.validate(key, value);
            labels.put(key, value);
            return this;
        }

        /** Any other change to the OCI spec, applied last. */
        public Builder spec(Consumer<SpecBuilder> change) {
            spec.add(Objects.requireNonNull(change, "spec"));
            return this;
        }

        public RunOptions build() {
            return new RunOptions(this);
        }
    }
}
