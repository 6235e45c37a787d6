package dev.berth.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.sys.Syscalls;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShimLogTest {
    @TempDir
    Path dir;

    @Test
    void closeReleasesTheReaderEvenThoughAWriterStillHoldsTheFifo() throws Exception {
        Path fifo = dir.resolve("log");
        Syscalls.get().mkfifo(fifo, 0700);
        ExecutorService single = Executors.newSingleThreadExecutor();
        try {
            ShimLog log = ShimLog.start(fifo, "dev.berth.runtime.shim.test", single);
            try (OutputStream shim = Files.newOutputStream(fifo)) {
                shim.write("time=\"now\" level=info msg=\"hello\"\n".getBytes(StandardCharsets.UTF_8));
                shim.flush();

                log.close();

                // The single thread is free again only if the blocked read was released.
                Future<String> next = single.submit(() -> "free");
                assertThat(next.get(5, TimeUnit.SECONDS)).isEqualTo("free");
            }
        } finally {
            single.shutdownNow();
        }
    }
}
