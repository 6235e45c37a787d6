package dev.berth.runtime.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.api.BerthException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.task.TaskMetrics;
import dev.berth.runtime.internal.proto.cgroups.v1.BlkIOEntry;
import dev.berth.runtime.internal.proto.cgroups.v2.IOEntry;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;

/**
 * Turns the {@code Any} of a shim's {@code StatsResponse} ({@code io.containerd.cgroups.v1.Metrics} or
 * {@code ...v2.Metrics}) into a {@link TaskMetrics}.
 */
public final class MetricsDecoder {
    public static final String V1_TYPE = "io.containerd.cgroups.v1.Metrics";
    public static final String V2_TYPE = "io.containerd.cgroups.v2.Metrics";
    /**
     * Limits at or above this mean "none": cgroup v1 reports an unlimited memory limit as the page
     * counter maximum (about 2^63 rounded down to a page), v2's "max" comes through as 2^64-1.
     */
    private static final long UNLIMITED = 1L << 62;

    private MetricsDecoder() {
    }

    /**
     * @throws NotImplementedException for any other payload type (e.g. a VM-based shim's own)
     * @throws BerthException if the payload does not parse
     */
    public static TaskMetrics decode(String typeUrl, ByteString value) {
        String name = typeUrl.substring(typeUrl.lastIndexOf('/') + 1);
        try {
            return switch (name) {
                case V1_TYPE -> fromV1(dev.berth.runtime.internal.proto.cgroups.v1.Metrics.parseFrom(value));
                case V2_TYPE -> fromV2(dev.berth.runtime.internal.proto.cgroups.v2.Metrics.parseFrom(value));
                default -> throw new NotImplementedException("task stats of type \"" + typeUrl
                        + "\" are not understood; expected " + V1_TYPE + " or " + V2_TYPE);
            };
        } catch (InvalidProtocolBufferException e) {
            throw new BerthException("malformed " + name + " from the shim: " + e.getMessage(), e);
        }
    }

    static TaskMetrics fromV1(dev.berth.runtime.internal.proto.cgroups.v1.Metrics m) {
        var cpu = m.getCpu();
        var mem = m.getMemory();
        TaskMetrics.Cpu c = new TaskMetrics.Cpu(
                Duration.ofNanos(cpu.getUsage().getTotal()),
                Duration.ofNanos(cpu.getUsage().getUser()),
                Duration.ofNanos(cpu.getUsage().getKernel()),
                cpu.getThrottling().getPeriods(),
                cpu.getThrottling().getThrottledPeriods(),
                Duration.ofNanos(cpu.getThrottling().getThrottledTime()));
        // total_* include child cgroups (hierarchical); a container's cgroup rarely has any, but when it
        // does they are the container's too.
        TaskMetrics.Memory memory = new TaskMetrics.Memory(
                mem.getUsage().getUsage(),
                limit(mem.getUsage().getLimit()),
                mem.getUsage().getMax(),
                mem.getTotalCache() != 0 ? mem.getTotalCache() : mem.getCache(),
                mem.getTotalRss() != 0 ? mem.getTotalRss() : mem.getRss(),
                // v1's "swap" entry is memory.memsw: memory plus swap.
                Math.max(0, mem.getSwap().getUsage() - mem.getUsage().getUsage()),
                // v1 has no count of OOM situations apart from the kills oom_control reports.
                m.getMemoryOomControl().getOomKill(),
                m.getMemoryOomControl().getOomKill(),
                mem.getTotalInactiveFile() != 0 ? mem.getTotalInactiveFile() : mem.getInactiveFile(),
                mem.getTotalPgFault() != 0 ? mem.getTotalPgFault() : mem.getPgFault(),
                mem.getTotalPgMajFault() != 0 ? mem.getTotalPgMajFault() : mem.getPgMajFault());
        TaskMetrics.Pids pids = new TaskMetrics.Pids(m.getPids().getCurrent(), limit(m.getPids().getLimit()));
        var blk = m.getBlkio();
        TaskMetrics.BlockIo io = new TaskMetrics.BlockIo(
                sum(blk.getIoServiceBytesRecursiveList(), "read"),
                sum(blk.getIoServiceBytesRecursiveList(), "write"),
                sum(blk.getIoServicedRecursiveList(), "read"),
                sum(blk.getIoServicedRecursiveList(), "write"));
        return new TaskMetrics(1, c, memory, pids, io);
    }

    static TaskMetrics fromV2(dev.berth.runtime.internal.proto.cgroups.v2.Metrics m) {
        var cpu = m.getCpu();
        var mem = m.getMemory();
        TaskMetrics.Cpu c = new TaskMetrics.Cpu(
                micros(cpu.getUsageUsec()),
                micros(cpu.getUserUsec()),
                micros(cpu.getSystemUsec()),
                cpu.getNrPeriods(),
                cpu.getNrThrottled(),
                micros(cpu.getThrottledUsec()));
        TaskMetrics.Memory memory = new TaskMetrics.Memory(
                mem.getUsage(),
                limit(mem.getUsageLimit()),
                mem.getMaxUsage(),
                mem.getFile(),
                mem.getAnon(),
                mem.getSwapUsage(),
                m.getMemoryEvents().getOom(),
                m.getMemoryEvents().getOomKill(),
                mem.getInactiveFile(),
                mem.getPgfault(),
                mem.getPgmajfault());
        TaskMetrics.Pids pids = new TaskMetrics.Pids(m.getPids().getCurrent(), limit(m.getPids().getLimit()));
        long rb = 0;
        long wb = 0;
        long ro = 0;
        long wo = 0;
        for (IOEntry e : m.getIo().getUsageList()) {
            rb += e.getRbytes();
            wb += e.getWbytes();
            ro += e.getRios();
            wo += e.getWios();
        }
        return new TaskMetrics(2, c, memory, pids, new TaskMetrics.BlockIo(rb, wb, ro, wo));
    }

    private static Duration micros(long usec) {
        return Duration.ofNanos(Math.multiplyExact(usec, 1000L));
    }

    /** 0 (not set), negative (2^64-1 as a Java long) and page-counter maxima all mean unlimited. */
    private static OptionalLong limit(long raw) {
        return raw <= 0 || raw >= UNLIMITED ? OptionalLong.empty() : OptionalLong.of(raw);
    }

    private static long sum(List<BlkIOEntry> entries, String op) {
        long total = 0;
        for (BlkIOEntry e : entries) {
            if (e.getOp().equalsIgnoreCase(op)) {
                total += e.getValue();
            }
        }
        return total;
    }
}
