package dev.berth;

import dev.berth.api.Identifiers;
import dev.berth.api.oci.runtime.Mount;
import dev.berth.api.task.RuncOptions;
import dev.berth.api.task.Stdio;
import dev.berth.runtime.TaskOption;
import dev.berth.runtime.TaskOptions;
import dev.berth.runtime.spec.SpecOption;
import dev.berth.runtime.spec.SpecOptions;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * How {@link Namespace#run} and {@link Namespace#runAndWait} run an image: {@code ctr run}. A run is a
 * container created with {@link ContainerOption}s (its spec options among them) and a task created with
 * {@link TaskOption}s; these options only hold those lists, in the order given, plus what only a run
 * has: the id shared by container and task, {@link #rm()} and {@link #stdin()}. Unset settings come from
 * the image's config (args, env, working directory, user) or containerd's defaults; the hostname
 * defaults to the id.
 *
 * <pre>{@code
 * RunOptions.builder()
 *         .args("httpd", "-f")                                   // shorthand for spec(SpecOptions.args(...))
 *         .spec(SpecOptions.pidsLimit(64), SpecOptions.readOnlyRootfs(true))
 *         .container(ContainerOptions.label("app", "web"))
 *         .rm(true)
 *         .build();
 * }</pre>
 *
 * The builder's shorthands ({@code args}, {@code env}, {@code memory}, ...) are a fixed set of the most
 * used options, each delegating to its factory in {@link SpecOptions}, {@link ContainerOptions} or
 * {@link TaskOptions}; a new option is added there, not here. Immutable; build with {@link #builder()}.
 */
public final class RunOptions {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String id;
    private final boolean rm;
    private final byte[] stdin;
    private final List<ContainerOption> container;
    private final List<TaskOption> task;

    private RunOptions(Builder b) {
        this.id = b.id != null ? b.id : generatedId();
        this.rm = b.rm;
        this.stdin = b.stdin;
        this.container = List.copyOf(b.container);
        this.task = List.copyOf(b.task);
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

    /** Whether the task and container are deleted once the process has exited. */
    public boolean rm() {
        return rm;
    }

    /** What {@link Namespace#runAndWait} feeds to the process's stdin (null: nothing). */
    public byte[] stdin() {
        return stdin == null ? null : stdin.clone();
    }

    /** The container options (spec options included), in the order given. */
    public List<ContainerOption> containerOptions() {
        return container;
    }

    /** The task options, in the order given. */
    public List<TaskOption> taskOptions() {
        return task;
    }

    /**
     * The container a run of {@code image} (null: none, the spec names the root) with these options
     * creates: the image, the hostname set to the id, then the container options in order.
     */
    public ContainerConfig containerConfig(String image) {
        ContainerConfig.Builder b = ContainerConfig.builder(id);
        if (image != null) {
            b.image(image);
        }
        // ctr leaves the host's name; a container of its own reads better as its id (a later option wins)
        if (id.length() <= 64) {
            b.spec(SpecOptions.hostname(id));
        }
        if (rm) {
            // whoever opens the root after this process is gone removes the container once its task is
            b.label(SessionOwner.RM_LABEL, SessionOwner.current());
        }
        return b.with(container).build();
    }

    /** Collects run options; each is checked when set. Not thread-safe. */
    public static final class Builder {
        private String id;
        private boolean rm;
        private byte[] stdin;
        private final List<ContainerOption> container = new ArrayList<>();
        private final List<TaskOption> task = new ArrayList<>();

        private Builder() {
        }

        /** The container id (default: generated). */
        public Builder id(String newId) {
            this.id = Identifiers.validate("container id", newId);
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

        /** Input for {@link Namespace#runAndWait}. */
        public Builder stdin(byte[] input) {
            this.stdin = Objects.requireNonNull(input, "stdin").clone();
            return this;
        }

        /** Adds container options, applied in order after the image and default hostname. */
        public Builder container(ContainerOption... options) {
            return container(List.of(options));
        }

        /** Adds container options from a list. */
        public Builder container(List<? extends ContainerOption> options) {
            container.addAll(options);
            return this;
        }

        /** Adds spec options, applied in order after the image's config: {@code container(ContainerOptions.spec(...))}. */
        public Builder spec(SpecOption... options) {
            return container(ContainerOptions.spec(options));
        }

        /** Adds spec options from a list. */
        public Builder spec(List<? extends SpecOption> options) {
            return container(ContainerOptions.spec(options));
        }

        /**
         * Adds task options, applied in order after the container's settings. {@link Namespace#runAndWait}
         * captures stdio itself, after these.
         */
        public Builder task(TaskOption... options) {
            task.addAll(List.of(options));
            return this;
        }

        // ---- shorthands for the most used options; each is its factory's option ----

        /** {@link SpecOptions#args(List)}: the whole argv, replacing the image's entrypoint and command. */
        public Builder args(String... newArgs) {
            return args(Arrays.asList(newArgs));
        }

        /** {@link SpecOptions#args(List)}. */
        public Builder args(List<String> newArgs) {
            return spec(SpecOptions.args(newArgs));
        }

        /** {@link SpecOptions#env(String...)}: {@code NAME=value} (or {@code NAME} to unset), over the image's. */
        public Builder env(String... entries) {
            return spec(SpecOptions.env(entries));
        }

        /** {@link SpecOptions#envVar}. */
        public Builder env(String name, String value) {
            return spec(SpecOptions.envVar(name, value));
        }

        /** {@link SpecOptions#cwd}. */
        public Builder cwd(String dir) {
            return spec(SpecOptions.cwd(dir));
        }

        /** {@link SpecOptions#user(String)}: {@code uid}, {@code uid:gid}, {@code name} or {@code name:group}. */
        public Builder user(String newUser) {
            return spec(SpecOptions.user(newUser));
        }

        /** {@link SpecOptions#hostname} (default: the id). */
        public Builder hostname(String name) {
            return spec(SpecOptions.hostname(name));
        }

        /** {@link SpecOptions#bindMount(Path, String, boolean)}. */
        public Builder bindMount(Path source, String destination, boolean readOnly) {
            return spec(SpecOptions.bindMount(source, destination, readOnly));
        }

        /** {@link SpecOptions#mount}. */
        public Builder mount(Mount mount) {
            return spec(SpecOptions.mount(mount));
        }

        /** {@link SpecOptions#memoryLimit}: bytes. */
        public Builder memory(long bytes) {
            return spec(SpecOptions.memoryLimit(bytes));
        }

        /** {@link SpecOptions#hostNetwork}. */
        public Builder hostNetwork(boolean host) {
            return spec(SpecOptions.hostNetwork(host));
        }

        /** {@link SpecOptions#terminal}. */
        public Builder tty(boolean newTty) {
            return spec(SpecOptions.terminal(newTty));
        }

        /** {@link ContainerOptions#snapshotter}. */
        public Builder snapshotter(String name) {
            return container(ContainerOptions.snapshotter(name));
        }

        /** {@link ContainerOptions#runtime}. */
        public Builder runtime(String name) {
            return container(ContainerOptions.runtime(name));
        }

        /** {@link ContainerOptions#runcOptions}. */
        public Builder runcOptions(RuncOptions options) {
            return container(ContainerOptions.runcOptions(options));
        }

        /** {@link ContainerOptions#sessionScoped} when true. */
        public Builder sessionScoped(boolean scoped) {
            return scoped ? container(ContainerOptions.sessionScoped()) : this;
        }

        /** {@link ContainerOptions#label}. */
        public Builder label(String key, String value) {
            return container(ContainerOptions.label(key, value));
        }

        /** {@link TaskOptions#stdio}: where {@link Namespace#run}'s output goes (default: discarded). */
        public Builder stdio(Stdio newStdio) {
            return task(TaskOptions.stdio(newStdio));
        }

        public RunOptions build() {
            return new RunOptions(this);
        }
    }
}
