package dev.berth;

import java.util.List;

/**
 * One setting of a container being created, applied to its {@link ContainerConfig.Builder}:
 * containerd's {@code NewContainerOpts}. {@link ContainerOptions} has the factories; spec settings come
 * in through {@link ContainerOptions#spec}. Options apply in order: a setting applied again replaces the
 * earlier value, labels and spec options accumulate.
 *
 * <p>The vocabulary has three levels, each with one place per option:
 * <ul>
 *   <li>{@link dev.berth.runtime.spec.SpecOption} / {@link dev.berth.runtime.spec.SpecOptions}: the OCI
 *       spec (args, env, user, mounts, limits, network, ...);
 *   <li>{@code ContainerOption} / {@link ContainerOptions}: the container record (image, snapshotter,
 *       runtime, labels, and its spec options);
 *   <li>{@link dev.berth.runtime.TaskOption} / {@link dev.berth.runtime.TaskOptions}: the task (stdio, ...).
 * </ul>
 * {@link RunOptions} is a list of container and task options plus what only a run has (id, rm, stdin).
 *
 * <p><b>A new container option</b> is a setter on {@link ContainerConfig.Builder} (which checks it and
 * which {@link Containers} reads) plus one factory in {@link ContainerOptions}.
 */
@FunctionalInterface
public interface ContainerOption {

    /** Applies this option to {@code container}; throws what the builder's setter throws. */
    void apply(ContainerConfig.Builder container);

    /** All of {@code options}, applied in order. */
    static ContainerOption all(List<? extends ContainerOption> options) {
        List<ContainerOption> copy = List.copyOf(options);
        return c -> copy.forEach(o -> o.apply(c));
    }
}
