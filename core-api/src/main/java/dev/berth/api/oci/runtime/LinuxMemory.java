package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * Memory cgroup limits in bytes (runtime-spec {@code LinuxMemory}); -1 means unlimited.
 *
 * @param swap memory plus swap
 * @param kernelTcp kernel TCP buffer limit (cgroup v1 only)
 * @param swappiness 0..100
 * @param unknownFields JSON fields not modelled here
 */
public record LinuxMemory(Long limit,
                          Long reservation,
                          Long swap,
                          Long kernel,
                          @JsonProperty("kernelTCP") Long kernelTcp,
                          Long swappiness,
                          @JsonProperty("disableOOMKiller") Boolean disableOomKiller,
                          Boolean useHierarchy,
                          Boolean checkBeforeUpdate,
                          @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public LinuxMemory {
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public LinuxMemory(Long limit, Long reservation, Long swap, Long kernel, Long kernelTcp, Long swappiness,
            Boolean disableOomKiller, Boolean useHierarchy, Boolean checkBeforeUpdate) {
        this(limit, reservation, swap, kernel, kernelTcp, swappiness, disableOomKiller, useHierarchy,
                checkBeforeUpdate, null);
    }

    public LinuxMemory withLimit(Long newLimit) {
        return new LinuxMemory(newLimit, reservation, swap, kernel, kernelTcp, swappiness, disableOomKiller,
                useHierarchy, checkBeforeUpdate, unknownFields);
    }

    public LinuxMemory withReservation(Long newReservation) {
        return new LinuxMemory(limit, newReservation, swap, kernel, kernelTcp, swappiness, disableOomKiller,
                useHierarchy, checkBeforeUpdate, unknownFields);
    }

    public LinuxMemory withSwap(Long newSwap) {
        return new LinuxMemory(limit, reservation, newSwap, kernel, kernelTcp, swappiness, disableOomKiller,
                useHierarchy, checkBeforeUpdate, unknownFields);
    }

    public LinuxMemory withKernel(Long newKernel) {
        return new LinuxMemory(limit, reservation, swap, newKernel, kernelTcp, swappiness, disableOomKiller,
                useHierarchy, checkBeforeUpdate, unknownFields);
    }

    public LinuxMemory withKernelTcp(Long newKernelTcp) {
        return new LinuxMemory(limit, reservation, swap, kernel, newKernelTcp, swappiness, disableOomKiller,
                useHierarchy, checkBeforeUpdate, unknownFields);
    }

    public LinuxMemory withSwappiness(Long newSwappiness) {
        return new LinuxMemory(limit, reservation, swap, kernel, kernelTcp, newSwappiness, disableOomKiller,
                useHierarchy, checkBeforeUpdate, unknownFields);
    }

    public LinuxMemory withDisableOomKiller(Boolean newDisableOomKiller) {
        return new LinuxMemory(limit, reservation, swap, kernel, kernelTcp, swappiness, newDisableOomKiller,
                useHierarchy, checkBeforeUpdate, unknownFields);
    }

    public LinuxMemory withUseHierarchy(Boolean newUseHierarchy) {
        return new LinuxMemory(limit, reservation, swap, kernel, kernelTcp, swappiness, disableOomKiller,
                newUseHierarchy, checkBeforeUpdate, unknownFields);
    }

    public LinuxMemory withCheckBeforeUpdate(Boolean newCheckBeforeUpdate) {
        return new LinuxMemory(limit, reservation, swap, kernel, kernelTcp, swappiness, disableOomKiller,
                useHierarchy, newCheckBeforeUpdate, unknownFields);
    }

    public LinuxMemory withUnknownFields(Map<String, Object> newUnknownFields) {
        return new LinuxMemory(limit, reservation, swap, kernel, kernelTcp, swappiness, disableOomKiller,
                useHierarchy, checkBeforeUpdate, newUnknownFields);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this value. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.limit = limit;
        b.reservation = reservation;
        b.swap = swap;
        b.kernel = kernel;
        b.kernelTcp = kernelTcp;
        b.swappiness = swappiness;
        b.disableOomKiller = disableOomKiller;
        b.useHierarchy = useHierarchy;
        b.checkBeforeUpdate = checkBeforeUpdate;
        b.unknownFields = unknownFields;
        return b;
    }

    /** Collects the fields of a {@link LinuxMemory}; not thread-safe. */
    public static final class Builder {
        private Long limit;
        private Long reservation;
        private Long swap;
        private Long kernel;
        private Long kernelTcp;
        private Long swappiness;
        private Boolean disableOomKiller;
        private Boolean useHierarchy;
        private Boolean checkBeforeUpdate;
        private Map<String, Object> unknownFields;

        private Builder() {
        }

        public Builder limit(Long value) {
            this.limit = value;
            return this;
        }

        public Builder reservation(Long value) {
            this.reservation = value;
            return this;
        }

        public Builder swap(Long value) {
            this.swap = value;
            return this;
        }

        public Builder kernel(Long value) {
            this.kernel = value;
            return this;
        }

        public Builder kernelTcp(Long value) {
            this.kernelTcp = value;
            return this;
        }

        public Builder swappiness(Long value) {
            this.swappiness = value;
            return this;
        }

        public Builder disableOomKiller(Boolean value) {
            this.disableOomKiller = value;
            return this;
        }

        public Builder useHierarchy(Boolean value) {
            this.useHierarchy = value;
            return this;
        }

        public Builder checkBeforeUpdate(Boolean value) {
            this.checkBeforeUpdate = value;
            return this;
        }

        public Builder unknownFields(Map<String, Object> value) {
            this.unknownFields = value;
            return this;
        }

        public LinuxMemory build() {
            return new LinuxMemory(limit, reservation, swap, kernel, kernelTcp, swappiness, disableOomKiller,
                    useHierarchy, checkBeforeUpdate, unknownFields);
        }
    }
}
