package dev.berth.api.task;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.Identifiers;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Mount;
import dev.berth.api.oci.runtime.RuntimeSpecJson;
import dev.berth.api.oci.runtime.Spec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything needed to create a task: its namespace and id, the OCI runtime spec ({@code config.json}
 * bytes, written to the bundle as given), rootfs mounts for the shim to mount (empty = use the spec's
 * {@code root.path} as is), stdio, whether it gets a terminal, and which runtime runs it.
 */
public final class TaskConfig {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String namespace;
    private final String id;
    private final byte[] spec;
    private final List<Mount> rootfs;
    private final Stdio stdio;
    private final boolean terminal;
    private final Optional<String> runtime;
    private final RuncOptions runcOptions;
    private final boolean sessionScoped;
    private final Optional<Path> restoreFrom;
    private final boolean privateCgroup2;

    private TaskConfig(Builder b) {
        this.namespace = b.namespace;
        this.id = b.id;
        this.spec = withTerminal(b.spec, b.terminal);
        this.rootfs = List.copyOf(b.rootfs);
        this.stdio = b.stdio;
        this.terminal = b.terminal;
        this.runtime = Optional.ofNullable(b.runtime);
        this.runcOptions = b.runcOptions;
        this.sessionScoped = b.sessionScoped;
        this.restoreFrom = Optional.ofNullable(b.restoreFrom);
        this.privateCgroup2 = b.privateCgroup2;
    }

    /**
     * runc needs {@code process.terminal} to agree with the shim's {@code terminal} flag (it asks for a
     * console socket exactly when the spec says so): make it agree, leaving the bytes alone if it does.
     */
    private static byte[] withTerminal(byte[] spec, boolean terminal) {
        try {
            JsonNode root = JSON.readTree(spec);
            JsonNode process = root.get("process");
            if (process == null || !process.isObject() || process.path("terminal").asBoolean(false) == terminal) {
                return spec;
            }
            ((com.fasterxml.jackson.databind.node.ObjectNode) process).put("terminal", terminal);
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        } catch (IOException e) {
            throw new InvalidArgumentException("spec is not valid JSON: " + e.getMessage());
        }
    }

    /** A builder for task {@code id} in namespace {@code default}. */
    public static Builder builder(String id) {
        return new Builder(id);
    }

    public String namespace() {
        return namespace;
    }

    public String id() {
        return id;
    }

    /** The OCI runtime spec JSON (a copy). */
    public byte[] spec() {
        return spec.clone();
    }

    public List<Mount> rootfs() {
        return rootfs;
    }

    public Stdio stdio() {
        return stdio;
    }

    public boolean terminal() {
        return terminal;
    }

    /** The runtime name ({@code io.containerd.runc.v2}) or absolute shim path; empty = the runtime's default. */
    public Optional<String> runtime() {
        return runtime;
    }

    public RuncOptions runcOptions() {
        return runcOptions;
    }

    /**
     * Whether the task is killed and removed when the runtime that created it closes or its JVM dies,
     * even by SIGKILL (see {@link Builder#sessionScoped}).
     */
    public boolean sessionScoped() {
        return sessionScoped;
    }

    /** The CRIU image directory the task is restored from, instead of starting its process afresh. */
    public Optional<Path> restoreFrom() {
        return restoreFrom;
    }

    /** Whether the shim runs in a private mount namespace with cgroup2 at /sys/fs/cgroup. */
    public boolean privateCgroup2() {
        return privateCgroup2;
    }

    /** This configuration with different stdio. */
    public TaskConfig withStdio(Stdio stdio) {
        Builder b = toBuilder();
        b.stdio(stdio);
        return b.build();
    }

    public Builder toBuilder() {
        Builder b = new Builder(id);
        b.namespace = namespace;
        b.spec = spec;
        b.rootfs = rootfs;
        b.stdio = stdio;
        b.terminal = terminal;
        b.runtime = runtime.orElse(null);
        b.runcOptions = runcOptions;
        b.sessionScoped = sessionScoped;
        b.restoreFrom = restoreFrom.orElse(null);
        b.privateCgroup2 = privateCgroup2;
        return b;
    }

    public static final class Builder {
        private String namespace = "default";
        private final String id;
        private byte[] spec;
        private List<Mount> rootfs = List.of();
        private Stdio stdio = Stdio.nullIO();
        private boolean terminal;
        private String runtime;
        private RuncOptions runcOptions = RuncOptions.defaults();
        private boolean sessionScoped;
        private Path restoreFrom;
        private boolean privateCgroup2;

        private Builder(String id) {
            this.id = Identifiers.validate("task id", id);
        }

        public Builder namespace(String namespace) {
            this.namespace = Identifiers.validate("namespace", namespace);
            return this;
        }

        /**
         * The OCI runtime spec as JSON.
         *
         * @throws InvalidArgumentException if it is not a JSON object with an {@code ociVersion}
         */
        public Builder spec(byte[] json) {
            Objects.requireNonNull(json, "spec");
            JsonNode node;
            try {
                node = JSON.readTree(json);
            } catch (IOException e) {
                throw new InvalidArgumentException("task " + id + ": spec is not valid JSON: " + e.getMessage());
            }
            if (node == null || !node.isObject() || !node.hasNonNull("ociVersion")) {
                throw new InvalidArgumentException("task " + id + ": spec must be a JSON object with \"ociVersion\"");
            }
            this.spec = json.clone();
            return this;
        }

        /** The OCI runtime spec, e.g. from runtime-v2's {@code dev.berth.runtime.spec.SpecBuilder}. */
        public Builder spec(Spec spec) {
            return spec(RuntimeSpecJson.toJson(Objects.requireNonNull(spec, "spec")));
        }

        public Builder spec(String json) {
            return spec(Objects.requireNonNull(json, "spec").getBytes(StandardCharsets.UTF_8));
        }

        /** Mounts the shim assembles at {@code <bundle>/rootfs} (from a snapshotter's Prepare/View). */
        public Builder rootfs(List<Mount> rootfs) {
            this.rootfs = List.copyOf(Objects.requireNonNull(rootfs, "rootfs"));
            return this;
        }

        public Builder stdio(Stdio stdio) {
            this.stdio = Objects.requireNonNull(stdio, "stdio");
            return this;
        }

        /** Give the process a pseudo terminal (stdout carries the terminal output; no separate stderr). */
        public Builder terminal(boolean terminal) {
            this.terminal = terminal;
            return this;
        }

        /** A runtime name such as {@code io.containerd.runc.v2}, or an absolute path to a shim binary. */
        public Builder runtime(String runtime) {
            Objects.requireNonNull(runtime, "runtime");
            if (runtime.isBlank()) {
                throw new InvalidArgumentException("task " + id + ": runtime name must not be blank");
            }
            this.runtime = runtime;
            return this;
        }

        public Builder runcOptions(RuncOptions runcOptions) {
            this.runcOptions = Objects.requireNonNull(runcOptions, "runcOptions");
            return this;
        }

        /**
         * Ties the task to the creating runtime's session, as Testcontainers' Ryuk does: it is killed and
         * removed when {@link TaskRuntime#close()} runs or the JVM dies in any way, SIGKILL included. A
         * small watcher process outside the JVM does the removal.
         */
        public Builder sessionScoped(boolean sessionScoped) {
            this.sessionScoped = sessionScoped;
            return this;
        }

        /**
         * Restores the task from a CRIU checkpoint ({@link Task#checkpoint}) instead of starting its process
         * afresh; {@link Task#start()} then resumes it. The spec should be the checkpointed task's.
         */
        public Builder restoreFrom(Path imageDir) {
            Objects.requireNonNull(imageDir, "imageDir");
            if (!imageDir.isAbsolute()) {
                throw new InvalidArgumentException("task " + id + ": checkpoint directory must be absolute: " + imageDir);
            }
            this.restoreFrom = imageDir;
            return this;
        }

        /**
         * Runs the shim, and so the OCI runtime, in a private mount namespace whose {@code /sys/fs/cgroup} is
         * the host's cgroup2 hierarchy. For crun on a host with a hybrid cgroup layout (crun refuses those):
         * there it sees a unified host, but only the controllers cgroup2 actually has, so specs must carry no
         * {@code linux.resources}.
         */
        public Builder privateCgroup2(boolean privateCgroup2) {
            this.privateCgroup2 = privateCgroup2;
            return this;
        }

        /** @throws InvalidArgumentException if no spec was given */
        public TaskConfig build() {
            if (spec == null) {
                throw new InvalidArgumentException("task " + id + ": an OCI runtime spec is required");
            }
            return new TaskConfig(this);
        }
    }
}
