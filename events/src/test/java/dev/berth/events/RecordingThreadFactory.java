package dev.berth.events;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;

/** Makes daemon threads and remembers them, so tests can prove delivery threads end. */
final class RecordingThreadFactory implements ThreadFactory {
    final List<Thread> threads = new CopyOnWriteArrayList<>();

    @Override
    public Thread newThread(Runnable task) {
        Thread thread = new Thread(task, "test-events-" + threads.size());
        thread.setDaemon(true);
        threads.add(thread);
        return thread;
    }

    void joinAll() throws InterruptedException {
        for (Thread thread : threads) {
            thread.join(30_000);
        }
    }
}
