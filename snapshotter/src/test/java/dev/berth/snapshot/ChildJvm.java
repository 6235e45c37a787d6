package dev.berth.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A {@link SnapshotterWorker} in its own JVM, with its stdout lines collected as they come. */
final class ChildJvm implements AutoCloseable {
    final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> all = java.util.Collections.synchronizedList(new ArrayList<>());

    private ChildJvm(Process process) {
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    all.add(line);
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // The process was killed; what was read so far is kept.
            }
        }, "child-jvm-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts a worker; its temp files (native libraries that sqlite-jdbc and jffi unpack, which a killed
     * JVM cannot delete) go to {@code root}'s parent, the test's own temp dir.
     */
    static ChildJvm start(String crashAt, String type, Path root, String... command) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Djava.io.tmpdir=" + root.toAbsolutePath().getParent());
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-Xshare:auto");
        cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        if (crashAt != null) {
            cmd.add("-Dberth.snapshot.crashAt=" + crashAt);
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(SnapshotterWorker.class.getName());
        cmd.add(type);
        cmd.add(root.toString());
        cmd.addAll(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        return new ChildJvm(pb.start());
    }

    /** Waits for a line starting with {@code prefix}; fails if the child ends or the time runs out. */
    String awaitLine(String prefix, long timeoutSeconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(50, TimeUnit.MILLISECONDS);
            if (line != null && line.startsWith(prefix)) {
                return line;
            }
            if (line == null && !process.isAlive() && lines.isEmpty()) {
                break;
            }
        }
        throw new AssertionError("child never printed \"" + prefix + "...\"; output: " + all);
    }

    int waitFor(long timeoutSeconds) throws InterruptedException {
        assertThat(process.waitFor(timeoutSeconds, TimeUnit.SECONDS)).as("child JVM finished in time").isTrue();
        return process.exitValue();
    }

    List<String> output() {
        synchronized (all) {
            return new ArrayList<>(all);
        }
    }

    /** SIGKILL, then wait for the process to be gone. */
    void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
