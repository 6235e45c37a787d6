package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.Map;

/**
 * CPU cgroup limits (runtime-spec {@code LinuxCPU}).
 *
 * @param shares relative weight (cgroup v1 {@code cpu.shares}, 2..262144)
 * @param quota microseconds of CPU time per {@code period}; -1 for none
 * @param period microseconds, usually 100000
 * @param cpus cpuset, e.g. {@code 0-3,6}
 * @param mems memory nodes, e.g. {@code 0}
 * @param idle 1 to put the cgroup under SCHED_IDLE (cgroup v2)
 * @param unknownFields JSON fields not modelled here
 */
public record LinuxCpu(Long shares,
                       Long quota,
                       Long burst,
                       Long period,
                       Long realtimeRuntime,
                       Long realtimePeriod,
                       String cpus,
                       String mems,
                       Long idle,
                       @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public LinuxCpu {
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public LinuxCpu(Long shares, Long quota, Long burst, Long period, Long realtimeRuntime, Long realtimePeriod,
            String cpus, String mems, Long idle) {
        this(shares, quota, burst, period, realtimeRuntime, realtimePeriod, cpus, mems, idle, null);
    }

    public LinuxCpu withShares(Long newShares) {
        return new LinuxCpu(newShares, quota, burst, period, realtimeRuntime, realtimePeriod, cpus, mems, idle,
                unknownFields);
    }

    public LinuxCpu withQuota(Long newQuota) {
        return new LinuxCpu(shares, newQuota, burst, period, realtimeRuntime, realtimePeriod, cpus, mems, idle,
                unknownFields);
    }

    public LinuxCpu withBurst(Long newBurst) {
        return new LinuxCpu(shares, quota, newBurst, period, realtimeRuntime, realtimePeriod, cpus, mems, idle,
                unknownFields);
    }

    public LinuxCpu withPeriod(Long newPeriod) {
        return new LinuxCpu(shares, quota, burst, newPeriod, realtimeRuntime, realtimePeriod, cpus, mems, idle,
                unknownFields);
    }

    public LinuxCpu withRealtimeRuntime(Long newRealtimeRuntime) {
        return new LinuxCpu(shares, quota, burst, period, newRealtimeRuntime, realtimePeriod, cpus, mems, idle,
                unknownFields);
    }

    public LinuxCpu withRealtimePeriod(Long newRealtimePeriod) {
        return new LinuxCpu(shares, quota, burst, period, realtimeRuntime, newRealtimePeriod, cpus, mems, idle,
                unknownFields);
    }

    public LinuxCpu withCpus(String newCpus) {
        return new LinuxCpu(shares, quota, burst, period, realtimeRuntime, realtimePeriod, newCpus, mems, idle,
                unknownFields);
    }

    public LinuxCpu withMems(String newMems) {
        return new LinuxCpu(shares, quota, burst, period, realtimeRuntime, realtimePeriod, cpus, newMems, idle,
                unknownFields);
    }

    public LinuxCpu withIdle(Long newIdle) {
        return new LinuxCpu(shares, quota, burst, period, realtimeRuntime, realtimePeriod, cpus, mems, newIdle,
                unknownFields);
    }

    public LinuxCpu withUnknownFields(Map<String, Object> newUnknownFields) {
        return new LinuxCpu(shares, quota, burst, period, realtimeRuntime, realtimePeriod, cpus, mems, idle,
                newUnknownFields);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this value. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.shares = shares;
        b.quota = quota;
        b.burst = burst;
        b.period = period;
        b.realtimeRuntime = realtimeRuntime;
        b.realtimePeriod = realtimePeriod;
        b.cpus = cpus;
        b.mems = mems;
        b.idle = idle;
        b.unknownFields = unknownFields;
        return b;
    }

    /** Collects the fields of a {@link LinuxCpu}; not thread-safe. */
    public static final class Builder {
        private Long shares;
        private Long quota;
        private Long burst;
        private Long period;
        private Long realtimeRuntime;
        private Long realtimePeriod;
        private String cpus;
        private String mems;
        private Long idle;
        private Map<String, Object> unknownFields;

        private Builder() {
        }

        public Builder shares(Long value) {
            this.shares = value;
            return this;
        }

        public Builder quota(Long value) {
            this.quota = value;
            return this;
        }

        public Builder burst(Long value) {
            this.burst = value;
            return this;
        }

        public Builder period(Long value) {
            this.period = value;
            return this;
        }

        public Builder realtimeRuntime(Long value) {
            this.realtimeRuntime = value;
            return this;
        }

        public Builder realtimePeriod(Long value) {
            this.realtimePeriod = value;
            return this;
        }

        public Builder cpus(String value) {
            this.cpus = value;
            return this;
        }

        public Builder mems(String value) {
            this.mems = value;
            return this;
        }

        public Builder idle(Long value) {
            this.idle = value;
            return this;
        }

        public Builder unknownFields(Map<String, Object> value) {
            this.unknownFields = value;
            return this;
        }

        public LinuxCpu build() {
            return new LinuxCpu(shares, quota, burst, period, realtimeRuntime, realtimePeriod, cpus, mems, idle,
                    unknownFields);
        }
    }
}
