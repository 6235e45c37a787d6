package dev.berth.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private containerd 1.6 (temp root, state and sockets; CRI plugin disabled) driven with {@code ctr},
 * the baseline Berth's benchmarks measure against. With the system property {@code bench.containerd}
 * set to a socket, the already running containerd of {@code bench/run} is used instead and left alone.
 * Closing stops only the daemon this instance started, by PID.
 */
public final class PrivateContainerd implements AutoCloseable {
    private final Process process;
    private final String socket;

    private PrivateContainerd(Process process, String socket) {
        this.process = process;
        this.socket = socket;
    }

    /** Starts containerd with its files under {@code dir}, or joins {@code bench.containerd}. */
    public static PrivateContainerd start(Path dir) throws IOException, InterruptedException {
        String shared = System.getProperty("bench.containerd");
        if (shared != null) {
            return new PrivateContainerd(null, shared);
        }
        Files.createDirectories(dir);
        String socket = dir.resolve("c.sock").toString();
        Path cfg = dir.resolve("config.toml");
        Files.writeString(cfg, """
                version = 2
                root = "%s"
                state = "%s"
                disabled_plugins = ["io.containerd.grpc.v1.cri"]
                [grpc]
                  address = "%s"
                [ttrpc]
                  address = "%s.ttrpc"
                [debug]
                  address = ""
                [metrics]
                  address = ""
                """.formatted(dir.resolve("root"), dir.resolve("state"), socket, socket));
        Path log = dir.resolve("containerd.log");
        Process p = new ProcessBuilder("containerd", "--config", cfg.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PrivateContainerd c = new PrivateContainerd(p, socket);
        for (int i = 0; i < 100; i++) {
            if (!p.isAlive()) {
                throw new IllegalStateException("containerd exited: " + Files.readString(log));
            }
            if (Files.exists(Path.of(socket)) && c.ctr("version").startsWith("Client")) {
                System.out.println("containerd pid " + p.pid() + " at " + socket);
                return c;
            }
            Thread.sleep(100);
        }
        p.destroyForcibly();
        throw new IllegalStateException("containerd did not start within 10 s; see " + log);
    }

    public String socket() {
        return socket;
    }

    /** Runs {@code ctr -a <socket> args...} and returns its output; a non-zero exit throws naming the command. */
    public String ctr(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ctr", "-a", socket));
        cmd.addAll(Arrays.asList(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    /** Removes every image of {@code namespace} synchronously and checks no snapshot or blob is left. */
    public void removeAllImages(String namespace) throws IOException, InterruptedException {
        String images = ctr("-n", namespace, "images", "ls", "-q").trim();
        if (!images.isEmpty()) {
            List<String> cmd = new ArrayList<>(List.of("-n", namespace, "images", "rm", "--sync"));
            cmd.addAll(Arrays.asList(images.split("\\s+")));
            ctr(cmd.toArray(String[]::new));
        }
        String snapshots = ctr("-n", namespace, "snapshots", "ls").trim();
        String content = ctr("-n", namespace, "content", "ls", "-q").trim();
        if (snapshots.lines().count() > 1 || !content.isEmpty()) {
            throw new IllegalStateException("containerd not empty after image removal:\n" + snapshots + "\n" + content);
        }
    }

    /** Stops the daemon this instance started (SIGTERM to its PID, then SIGKILL); a joined one is left alone. */
    @Override
    public void close() throws InterruptedException {
        if (process == null) {
            return;
        }
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
