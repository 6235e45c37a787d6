package dev.berth.runtime.spec;

import java.util.List;
import java.util.Objects;

/**
 * One change to a container's OCI spec, applied to its {@link SpecBuilder}: containerd's
 * {@code oci.SpecOpts}. Options are values: make them once ({@link SpecOptions} has one factory per
 * {@link SpecBuilder} setting), keep them in lists, and hand the same ones to
 * {@code RunOptions}, {@code ContainerConfig} or {@code Containers.create}, which apply them in order.
 *
 * <p>Composition follows the builder: a setting applied again replaces the earlier value (later wins),
 * settings whose {@link SpecBuilder} method "adds" (env changes, mounts, capabilities, sysctls,
 * annotations) accumulate in order. A lambda is an option too: {@code spec -> spec.pidsLimit(64)}.
 *
 * <p><b>A new spec option</b> is a setter on {@link SpecBuilder} (state, check, and its part of
 * {@link SpecBuilder#build()}) plus one factory in {@link SpecOptions}; every entry point then has it.
 */
@FunctionalInterface
public interface SpecOption {

    /** Applies this option to {@code spec}; throws what the builder's setter throws. */
    void apply(SpecBuilder spec);

    /** This option, then {@code next}. */
    default SpecOption andThen(SpecOption next) {
        Objects.requireNonNull(next, "next");
        return spec -> {
            apply(spec);
            next.apply(spec);
        };
    }

    /** All of {@code options}, applied in order. */
    static SpecOption all(List<? extends SpecOption> options) {
        List<SpecOption> copy = List.copyOf(options);
        return spec -> copy.forEach(o -> o.apply(spec));
    }

    /** All of {@code options}, applied in order. */
    static SpecOption all(SpecOption... options) {
        return all(List.of(options));
    }
}
