package dev.berth.cri.internal;

/** The previous CPU sample of a container or a pod, for the rate in nano-cores between two stats calls. */
final class CpuRate {
    private long lastAt;
    private long lastUsage = -1;

    /** The rate since the previous sample (0 on the first, or when the usage went back), and keeps this one. */
    synchronized long next(long nowNanos, long usageNanos) {
        long rate = lastUsage < 0 || nowNanos <= lastAt || usageNanos < lastUsage ? 0
                : (long) ((usageNanos - lastUsage) * (1e9 / (nowNanos - lastAt)));
        lastAt = nowNanos;
        lastUsage = usageNanos;
        return rate;
    }
}
