package dev.berth.api.task;

import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Resource usage of a task's cgroup, as its shim reports it ({@link Task#stats()}), the same numbers
 * whether the host runs cgroup v1 or v2. Sizes are bytes; counters count since the cgroup was created.
 *
 * @param cgroupVersion 1 or 2: which hierarchy the numbers came from
 */
public record TaskMetrics(int cgroupVersion, Cpu cpu, Memory memory, Pids pids, BlockIo blockIo) {
    public TaskMetrics {
        if (cgroupVersion != 1 && cgroupVersion != 2) {
            throw new IllegalArgumentException("cgroupVersion must be 1 or 2, got " + cgroupVersion);
        }
        Objects.requireNonNull(cpu, "cpu");
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(pids, "pids");
        Objects.requireNonNull(blockIo, "blockIo");
    }

    /**
     * CPU time used, split into user and kernel time, and CFS throttling ({@code periods} elapsed with
     * a quota, {@code throttledPeriods} of them in which the quota ran out, time spent throttled).
     */
    public record Cpu(Duration usage, Duration user, Duration kernel, long periods, long throttledPeriods,
                      Duration throttled) {
        public Cpu {
            Objects.requireNonNull(usage, "usage");
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(kernel, "kernel");
            Objects.requireNonNull(throttled, "throttled");
        }
    }

    /**
     * Memory charged to the cgroup ({@code usage}), its limit (empty = unlimited), the highest usage seen
     * (0 where the kernel does not track it), page cache and anonymous memory ({@code rss}), how often the
     * cgroup hit its limit and went out of memory ({@code oomEvents}) and how many processes the OOM
     * killer killed in it ({@code oomKills}; 0 where the shim does not report it); the page cache the
     * kernel would reclaim first ({@code inactiveFile}), and page faults, all and major ones.
     */
    public record Memory(long usage, OptionalLong limit, long maxUsage, long cache, long rss, long swap,
                         long oomEvents, long oomKills, long inactiveFile, long pageFaults, long majorPageFaults) {
        public Memory {
            Objects.requireNonNull(limit, "limit");
        }

        /** Without the inactive page cache and page fault counts (0). */
        public Memory(long usage, OptionalLong limit, long maxUsage, long cache, long rss, long swap,
                      long oomEvents, long oomKills) {
            this(usage, limit, maxUsage, cache, rss, swap, oomEvents, oomKills, 0, 0, 0);
        }

        /**
         * The working set as kubelet and cAdvisor count it: usage less the inactive page cache, which the
         * kernel reclaims before it would OOM-kill.
         */
        public long workingSet() {
            return Math.max(0, usage - inactiveFile);
        }
    }

    /** Processes (tasks) in the cgroup and the pids limit (empty = unlimited). */
    public record Pids(long current, OptionalLong limit) {
        public Pids {
            Objects.requireNonNull(limit, "limit");
        }
    }

    /** Block device I/O summed over all devices: bytes and operations. */
    public record BlockIo(long readBytes, long writeBytes, long readOps, long writeOps) {
    }
}
