package dev.berth.runtime.ttrpc.internal;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;

/**
 * The buffer allocator of ttrpc's connections. netty 4.2's default (the adaptive pooling allocator) pays for
 * its first buffer with a chunk and the JDK's flight-recorder event classes (about 0.25 s of CPU in a fresh
 * JVM, measured with a first allocation alone); ttrpc frames are small and short-lived, so unpooled
 * buffers cost nothing measurable after that. {@code -Dberth.ttrpc.pooledBuffers=true} restores netty's
 * default (for A/B benchmarks).
 */
final class TtrpcBuffers {
    static final String POOLED_PROPERTY = "berth.ttrpc.pooledBuffers";

    private TtrpcBuffers() {
    }

    static ByteBufAllocator allocator() {
        return Boolean.getBoolean(POOLED_PROPERTY) ? ByteBufAllocator.DEFAULT : UnpooledByteBufAllocator.DEFAULT;
    }
}
