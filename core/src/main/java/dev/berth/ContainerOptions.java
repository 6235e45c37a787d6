package dev.berth;

import dev.berth.api.Labels;
import dev.berth.api.task.RuncOptions;
import dev.berth.network.NetworkMode;
import dev.berth.network.PortMapping;
import dev.berth.runtime.spec.SpecOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The container options, one factory per {@link ContainerConfig.Builder} setting and named as it:
 * containerd's {@code containerd.With...} container options. Labels are checked when the factory is
 * called, other values when the option is applied (the message then names the container). Options hold
 * no mutable state and are thread-safe.
 */
public final class ContainerOptions {
    private ContainerOptions() {
    }

    /** {@link ContainerConfig.Builder#image}: the image the container's root file system and defaults come from. */
    public static ContainerOption image(String name) {
        Objects.requireNonNull(name, "image");
        return c -> c.image(name);
    }

    /** {@link ContainerConfig.Builder#snapshotter}. */
    public static ContainerOption snapshotter(String name) {
        Objects.requireNonNull(name, "snapshotter");
        return c -> c.snapshotter(name);
    }

    /** {@link ContainerConfig.Builder#runtime}: a runtime name or an absolute shim path. */
    public static ContainerOption runtime(String name) {
        Objects.requireNonNull(name, "runtime");
        return c -> c.runtime(name);
    }

    /** {@link ContainerConfig.Builder#runcOptions}. */
    public static ContainerOption runcOptions(RuncOptions options) {
        Objects.requireNonNull(options, "runcOptions");
        return c -> c.runcOptions(options);
    }

    /** {@link ContainerConfig.Builder#label}: adds a label, replacing one with the same key. */
    public static ContainerOption label(String key, String value) {
        Labels.validate(key, value);
        return c -> c.label(key, value);
    }

    /** {@link ContainerConfig.Builder#labels}. */
    public static ContainerOption labels(Map<String, String> labels) {
        Map<String, String> copy = new LinkedHashMap<>(labels);
        copy.forEach(Labels::validate);
        return c -> c.labels(copy);
    }

    /**
     * Ties the container to this process, as Testcontainers' Ryuk does: its task, snapshot and record are
     * removed when the {@link Berth} that made it closes or this JVM ends, however it ends. A killed JVM's
     * task is removed within moments by the runtime's session reaper; the record and snapshot by the next
     * {@link Berth#open} of the root or {@link Berth#gc()} of a live process on it. Its tasks get their own
     * shim (never a shared one).
     */
    public static ContainerOption sessionScoped() {
        return label(SessionOwner.SESSION_LABEL, SessionOwner.current());
    }

    /** {@link ContainerConfig.Builder#spec}: spec options, applied after the image's config, in order. */
    public static ContainerOption spec(SpecOption... options) {
        return spec(List.of(options));
    }

    /** {@link ContainerConfig.Builder#spec}, from a list. */
    public static ContainerOption spec(List<? extends SpecOption> options) {
        List<SpecOption> copy = List.copyOf(options);
        return c -> c.spec(copy);
    }

    /** {@link ContainerConfig.Builder#network}. */
    public static ContainerOption network(NetworkMode mode) {
        Objects.requireNonNull(mode, "network");
        return c -> c.network(mode);
    }

    /** {@link ContainerConfig.Builder#network}, parsed: {@code none}, {@code host}, {@code container:<id>} or a network name. */
    public static ContainerOption network(String mode) {
        return network(NetworkMode.parse(mode));
    }

    /** {@link ContainerConfig.Builder#publish}. */
    public static ContainerOption publish(PortMapping port) {
        Objects.requireNonNull(port, "port");
        return c -> c.publish(port);
    }

    /** {@link ContainerConfig.Builder#publish}, parsed as {@code [ip:][hostPort:]containerPort[/tcp|/udp]}. */
    public static ContainerOption publish(String port) {
        return publish(PortMapping.parse(port));
    }

    /** {@link ContainerConfig.Builder#alias}. */
    public static ContainerOption alias(String alias) {
        Objects.requireNonNull(alias, "alias");
        return c -> c.alias(alias);
    }
}
