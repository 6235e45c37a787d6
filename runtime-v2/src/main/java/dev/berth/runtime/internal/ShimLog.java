package dev.berth.runtime.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drains a shim's {@code log} FIFO into an slf4j logger named after the container. A shim whose log FIFO
 * has no reader exits at once, so this must be open before {@code start}. The FIFO is opened read-write
 * (as containerd does) so the open never blocks and the shim's restarts never see a closed pipe.
 */
public final class ShimLog implements AutoCloseable {
    private final FileChannel channel;
    private final Logger logger;

    private ShimLog(FileChannel channel, Logger logger) {
        this.channel = channel;
        this.logger = logger;
    }

    public static ShimLog start(Path fifo, String loggerName, Executor ioThreads) throws IOException {
        FileChannel channel = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE);
        ShimLog log = new ShimLog(channel, LoggerFactory.getLogger(loggerName));
        ioThreads.execute(log::drain);
        return log;
    }

    private void drain() {
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                emit(line);
            }
        } catch (ClosedChannelException e) {
            // closed by close(): done
        } catch (IOException e) {
            logger.debug("shim log ended: {}", e.toString());
        }
    }

    /**
     * Shims log in logrus' text format ({@code time=... level=info msg=...}): errors and warnings keep
     * their level; a shim's info lines (it says "starting signal loop" and the like on every start) are
     * per-container chatter, so they go out at DEBUG with the shim's own debug lines.
     */
    private void emit(String line) {
        if (line.contains("level=error") || line.contains("level=fatal") || line.contains("level=panic")) {
            logger.error(line);
        } else if (line.contains("level=warn")) {
            logger.warn(line);
        } else {
            logger.debug(line);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            logger.debug("closing shim log: {}", e.toString());
        }
    }
}
