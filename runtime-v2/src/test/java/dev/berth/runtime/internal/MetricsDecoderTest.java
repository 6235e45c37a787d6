package dev.berth.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.berth.api.BerthException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.task.TaskMetrics;
import dev.berth.runtime.internal.proto.cgroups.v1.BlkIOEntry;
import dev.berth.runtime.internal.proto.cgroups.v1.BlkIOStat;
import dev.berth.runtime.internal.proto.cgroups.v1.CPUUsage;
import dev.berth.runtime.internal.proto.cgroups.v1.MemoryEntry;
import dev.berth.runtime.internal.proto.cgroups.v1.MemoryOomControl;
import dev.berth.runtime.internal.proto.cgroups.v1.Throttle;
import dev.berth.runtime.internal.proto.cgroups.v2.IOEntry;
import dev.berth.runtime.internal.proto.cgroups.v2.IOStat;
import dev.berth.runtime.internal.proto.cgroups.v2.MemoryEvents;
import java.time.Duration;
import java.util.OptionalLong;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class MetricsDecoderTest {

    @Nested
    class CgroupV1 {
        final dev.berth.runtime.internal.proto.cgroups.v1.Metrics metrics = dev.berth.runtime.internal.proto.cgroups.v1.Metrics.newBuilder()
                .setPids(dev.berth.runtime.internal.proto.cgroups.v1.PidsStat.newBuilder().setCurrent(3).setLimit(100))
                .setCpu(dev.berth.runtime.internal.proto.cgroups.v1.CPUStat.newBuilder()
                        .setUsage(CPUUsage.newBuilder().setTotal(1_500_000_000L).setUser(1_000_000_000L).setKernel(400_000_000L))
                        .setThrottling(Throttle.newBuilder().setPeriods(10).setThrottledPeriods(4).setThrottledTime(2_000_000L)))
                .setMemory(dev.berth.runtime.internal.proto.cgroups.v1.MemoryStat.newBuilder()
                        .setTotalCache(4096).setTotalRss(8192).setTotalInactiveFile(3000).setInactiveFile(1)
                        .setTotalPgFault(77).setTotalPgMajFault(5)
                        .setUsage(MemoryEntry.newBuilder().setUsage(12_288).setLimit(64L << 20).setMax(20_000))
                        .setSwap(MemoryEntry.newBuilder().setUsage(12_288 + 1000)))
                .setMemoryOomControl(MemoryOomControl.newBuilder().setOomKill(2))
                .setBlkio(BlkIOStat.newBuilder()
                        .addIoServiceBytesRecursive(BlkIOEntry.newBuilder().setOp("Read").setMajor(8).setValue(100))
                        .addIoServiceBytesRecursive(BlkIOEntry.newBuilder().setOp("Write").setMajor(8).setValue(200))
                        .addIoServiceBytesRecursive(BlkIOEntry.newBuilder().setOp("Read").setMajor(253).setValue(50))
                        .addIoServiceBytesRecursive(BlkIOEntry.newBuilder().setOp("Total").setMajor(8).setValue(300))
                        .addIoServicedRecursive(BlkIOEntry.newBuilder().setOp("Read").setValue(7))
                        .addIoServicedRecursive(BlkIOEntry.newBuilder().setOp("Write").setValue(9)))
                .build();

        TaskMetrics decoded() {
            return MetricsDecoder.decode(MetricsDecoder.V1_TYPE, metrics.toByteString());
        }

        @Test
        void cpuTimesAreNanoseconds() {
            assertThat(decoded().cpu()).isEqualTo(new TaskMetrics.Cpu(Duration.ofMillis(1500), Duration.ofSeconds(1),
                    Duration.ofMillis(400), 10, 4, Duration.ofMillis(2)));
        }

        @Test
        void memorySwapIsMemswMinusMemory() {
            assertThat(decoded().memory()).isEqualTo(new TaskMetrics.Memory(12_288, OptionalLong.of(64L << 20), 20_000,
                    4096, 8192, 1000, 2, 2, 3000, 77, 5));
        }

        @Test
        void workingSetIsUsageLessTheHierarchicalInactivePageCache() {
            // kubelet's and cAdvisor's figure: the active page cache counts, only the inactive one is reclaimable
            assertThat(decoded().memory().workingSet()).isEqualTo(12_288 - 3000);
        }

        @Test
        void blockIoSumsDevicesPerDirectionAndIgnoresTotals() {
            assertThat(decoded().blockIo()).isEqualTo(new TaskMetrics.BlockIo(150, 200, 7, 9));
        }

        @Test
        void pidsAndVersion() {
            assertThat(decoded().pids()).isEqualTo(new TaskMetrics.Pids(3, OptionalLong.of(100)));
            assertThat(decoded().cgroupVersion()).isEqualTo(1);
        }

        @Test
        void pageCounterMaximumMeansUnlimited() {
            var unlimited = metrics.toBuilder()
                    .setMemory(metrics.getMemory().toBuilder().setUsage(MemoryEntry.newBuilder().setLimit(0x7FFFFFFFFFFFF000L)))
                    .setPids(metrics.getPids().toBuilder().setLimit(0))
                    .build();

            TaskMetrics m = MetricsDecoder.decode(MetricsDecoder.V1_TYPE, unlimited.toByteString());

            assertThat(m.memory().limit()).isEmpty();
            assertThat(m.pids().limit()).isEmpty();
        }
    }

    @Nested
    class CgroupV2 {
        final dev.berth.runtime.internal.proto.cgroups.v2.Metrics metrics = dev.berth.runtime.internal.proto.cgroups.v2.Metrics.newBuilder()
                .setPids(dev.berth.runtime.internal.proto.cgroups.v2.PidsStat.newBuilder().setCurrent(2))
                .setCpu(dev.berth.runtime.internal.proto.cgroups.v2.CPUStat.newBuilder()
                        .setUsageUsec(1500).setUserUsec(1000).setSystemUsec(500)
                        .setNrPeriods(6).setNrThrottled(1).setThrottledUsec(250))
                .setMemory(dev.berth.runtime.internal.proto.cgroups.v2.MemoryStat.newBuilder()
                        .setUsage(10_000).setUsageLimit(-1L).setMaxUsage(11_000).setFile(3000).setAnon(7000)
                        .setSwapUsage(5).setInactiveFile(2500).setPgfault(40).setPgmajfault(2))
                .setMemoryEvents(MemoryEvents.newBuilder().setMax(9).setOom(3).setOomKill(1))
                .setIo(IOStat.newBuilder()
                        .addUsage(IOEntry.newBuilder().setMajor(8).setRbytes(10).setWbytes(20).setRios(1).setWios(2))
                        .addUsage(IOEntry.newBuilder().setMajor(253).setRbytes(5).setWbytes(6).setRios(3).setWios(4)))
                .build();

        TaskMetrics decoded() {
            return MetricsDecoder.decode("type.googleapis.com/" + MetricsDecoder.V2_TYPE, metrics.toByteString());
        }

        @Test
        void cpuMicrosecondsBecomeDurations() {
            assertThat(decoded().cpu()).isEqualTo(new TaskMetrics.Cpu(Duration.ofNanos(1_500_000),
                    Duration.ofMillis(1), Duration.ofNanos(500_000), 6, 1, Duration.ofNanos(250_000)));
        }

        @Test
        void memoryEventsGiveOomCounts() {
            assertThat(decoded().memory()).isEqualTo(new TaskMetrics.Memory(10_000, OptionalLong.empty(), 11_000,
                    3000, 7000, 5, 3, 1, 2500, 40, 2));
            assertThat(decoded().memory().workingSet()).isEqualTo(7500);
        }

        @Test
        void ioSumsAllDevices() {
            assertThat(decoded().blockIo()).isEqualTo(new TaskMetrics.BlockIo(15, 26, 4, 6));
            assertThat(decoded().pids()).isEqualTo(new TaskMetrics.Pids(2, OptionalLong.empty()));
            assertThat(decoded().cgroupVersion()).isEqualTo(2);
        }
    }

    @Test
    void unknownStatsTypeIsNotImplemented() {
        assertThatThrownBy(() -> MetricsDecoder.decode("io.katacontainers.Metrics", ByteString.EMPTY))
                .isInstanceOf(NotImplementedException.class)
                .hasMessageContaining("io.katacontainers.Metrics");
    }

    @Test
    void malformedPayloadIsReported() {
        assertThatThrownBy(() -> MetricsDecoder.decode(MetricsDecoder.V1_TYPE, ByteString.copyFrom(new byte[] {0x0a, 0x7f})))
                .isInstanceOf(BerthException.class)
                .hasMessageContaining(MetricsDecoder.V1_TYPE);
    }
}
