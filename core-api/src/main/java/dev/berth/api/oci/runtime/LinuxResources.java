package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * Cgroup limits of the container (runtime-spec {@code LinuxResources}); also the payload of a task
 * update.
 *
 * @param devices device cgroup rules, applied in order (the last matching rule wins)
 * @param unified cgroup v2 files to write, e.g. {@code memory.high}
 * @param unknownFields JSON fields not modelled here
 */
public record LinuxResources(List<LinuxDeviceCgroup> devices,
                             LinuxMemory memory,
                             LinuxCpu cpu,
                             LinuxPids pids,
                             @JsonProperty("blockIO") LinuxBlockIo blockIo,
                             List<LinuxHugepageLimit> hugepageLimits,
                             LinuxNetwork network,
                             Map<String, LinuxRdma> rdma,
                             Map<String, String> unified,
                             @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public LinuxResources {
        devices = Copies.list(devices);
        hugepageLimits = Copies.list(hugepageLimits);
        rdma = Copies.map(rdma);
        unified = Copies.map(unified);
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public LinuxResources(List<LinuxDeviceCgroup> devices, LinuxMemory memory, LinuxCpu cpu, LinuxPids pids,
            LinuxBlockIo blockIo, List<LinuxHugepageLimit> hugepageLimits, LinuxNetwork network,
            Map<String, LinuxRdma> rdma, Map<String, String> unified) {
        this(devices, memory, cpu, pids, blockIo, hugepageLimits, network, rdma, unified, null);
    }

    public LinuxResources withDevices(List<LinuxDeviceCgroup> newDevices) {
        return new LinuxResources(newDevices, memory, cpu, pids, blockIo, hugepageLimits, network, rdma, unified,
                unknownFields);
    }

    public LinuxResources withMemory(LinuxMemory newMemory) {
        return new LinuxResources(devices, newMemory, cpu, pids, blockIo, hugepageLimits, network, rdma, unified,
                unknownFields);
    }

    public LinuxResources withCpu(LinuxCpu newCpu) {
        return new LinuxResources(devices, memory, newCpu, pids, blockIo, hugepageLimits, network, rdma, unified,
                unknownFields);
    }

    public LinuxResources withPids(LinuxPids newPids) {
        return new LinuxResources(devices, memory, cpu, newPids, blockIo, hugepageLimits, network, rdma, unified,
                unknownFields);
    }

    public LinuxResources withBlockIo(LinuxBlockIo newBlockIo) {
        return new LinuxResources(devices, memory, cpu, pids, newBlockIo, hugepageLimits, network, rdma, unified,
                unknownFields);
    }

    public LinuxResources withHugepageLimits(List<LinuxHugepageLimit> newHugepageLimits) {
        return new LinuxResources(devices, memory, cpu, pids, blockIo, newHugepageLimits, network, rdma, unified,
                unknownFields);
    }

    public LinuxResources withNetwork(LinuxNetwork newNetwork) {
        return new LinuxResources(devices, memory, cpu, pids, blockIo, hugepageLimits, newNetwork, rdma, unified,
                unknownFields);
    }

    public LinuxResources withRdma(Map<String, LinuxRdma> newRdma) {
        return new LinuxResources(devices, memory, cpu, pids, blockIo, hugepageLimits, network, newRdma, unified,
                unknownFields);
    }

    public LinuxResources withUnified(Map<String, String> newUnified) {
        return new LinuxResources(devices, memory, cpu, pids, blockIo, hugepageLimits, network, rdma, newUnified,
                unknownFields);
    }

    public LinuxResources withUnknownFields(Map<String, Object> newUnknownFields) {
        return new LinuxResources(devices, memory, cpu, pids, blockIo, hugepageLimits, network, rdma, unified,
                newUnknownFields);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this value. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.devices = devices;
        b.memory = memory;
        b.cpu = cpu;
        b.pids = pids;
        b.blockIo = blockIo;
        b.hugepageLimits = hugepageLimits;
        b.network = network;
        b.rdma = rdma;
        b.unified = unified;
        b.unknownFields = unknownFields;
        return b;
    }

    /** Collects the fields of a {@link LinuxResources}; not thread-safe. */
    public static final class Builder {
        private List<LinuxDeviceCgroup> devices;
        private LinuxMemory memory;
        private LinuxCpu cpu;
        private LinuxPids pids;
        private LinuxBlockIo blockIo;
        private List<LinuxHugepageLimit> hugepageLimits;
        private LinuxNetwork network;
        private Map<String, LinuxRdma> rdma;
        private Map<String, String> unified;
        private Map<String, Object> unknownFields;

        private Builder() {
        }

        public Builder devices(List<LinuxDeviceCgroup> value) {
            this.devices = value;
            return this;
        }

        public Builder memory(LinuxMemory value) {
            this.memory = value;
            return this;
        }

        public Builder cpu(LinuxCpu value) {
            this.cpu = value;
            return this;
        }

        public Builder pids(LinuxPids value) {
            this.pids = value;
            return this;
        }

        public Builder blockIo(LinuxBlockIo value) {
            this.blockIo = value;
            return this;
        }

        public Builder hugepageLimits(List<LinuxHugepageLimit> value) {
            this.hugepageLimits = value;
            return this;
        }

        public Builder network(LinuxNetwork value) {
            this.network = value;
            return this;
        }

        public Builder rdma(Map<String, LinuxRdma> value) {
            this.rdma = value;
            return this;
        }

        public Builder unified(Map<String, String> value) {
            this.unified = value;
            return this;
        }

        public Builder unknownFields(Map<String, Object> value) {
            this.unknownFields = value;
            return this;
        }

        public LinuxResources build() {
            return new LinuxResources(devices, memory, cpu, pids, blockIo, hugepageLimits, network, rdma, unified,
                    unknownFields);
        }
    }
}
