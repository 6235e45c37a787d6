package dev.berth.content;

import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Large direct buffers for moving blob bytes: the kernel reads into and writes from them without the JDK's
 * extra copy through a temporary direct buffer. A few are pooled for the life of the JVM; beyond that,
 * callers get heap buffers rather than growing native memory without bound.
 */
final class TransferBuffers {
    static final int SIZE = 256 << 10;
    private static final int MAX_DIRECT = 32;
    private static final ArrayBlockingQueue<ByteBuffer> POOL = new ArrayBlockingQueue<>(MAX_DIRECT);
    private static final AtomicInteger DIRECT_CREATED = new AtomicInteger();

    private TransferBuffers() {
    }

    static ByteBuffer take() {
        ByteBuffer b = POOL.poll();
        if (b != null) {
            return b.clear();
        }
        if (DIRECT_CREATED.incrementAndGet() <= MAX_DIRECT) {
            return ByteBuffer.allocateDirect(SIZE);
        }
        DIRECT_CREATED.decrementAndGet();
        return ByteBuffer.allocate(SIZE);
    }

    static void give(ByteBuffer b) {
        if (b.isDirect()) {
            POOL.offer(b.clear());
        }
    }
}
