package dev.berth.runtime.internal;

import dev.berth.api.IoFailureException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.BerthException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.UnavailableException;
import dev.berth.runtime.internal.proto.task.DeleteResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a shim binary's {@code start} and {@code delete} actions with containerd 1.6's command line and
 * environment.
 */
public final class ShimLauncher implements ShimProcesses {
    private static final Logger log = LoggerFactory.getLogger(ShimLauncher.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    /**
     * Where the shim should connect back and what it should be called with. {@code privateCgroup2} runs
     * the shim (and so its OCI runtime) in a private mount namespace whose {@code /sys/fs/cgroup} is the
     * cgroup2 hierarchy: crun refuses hybrid cgroup hosts, and sees a unified one there.
     */
    public record Context(String namespace, String id, Path bundle, String grpcAddress, Path publishBinary,
                          Path ttrpcAddress, boolean privateCgroup2) {
        public Context(String namespace, String id, Path bundle, String grpcAddress, Path publishBinary,
                       Path ttrpcAddress) {
            this(namespace, id, bundle, grpcAddress, publishBinary, ttrpcAddress, false);
        }
    }

    /**
     * The wrapper for {@link Context#privateCgroup2}: util-linux {@code unshare -m} makes the namespace
     * (propagation private, so nothing leaks back to the host), {@code sh} mounts cgroup2 over
     * {@code /sys/fs/cgroup} and execs the shim, whose serving process inherits the namespace.
     */
    static final List<String> CGROUP2_NAMESPACE = List.of("unshare", "--mount", "--propagation", "private", "--",
            "/bin/sh", "-c", "mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec \"$@\"", "berth-cgroup2");

    private final Executor ioThreads;

    public ShimLauncher(Executor ioThreads) {
        this.ioThreads = ioThreads;
    }

    static List<String> command(Path shim, Context ctx, String... tail) {
        List<String> cmd = new ArrayList<>(ctx.privateCgroup2() ? CGROUP2_NAMESPACE : List.of());
        cmd.addAll(List.of(shim.toString(),
                "-namespace", ctx.namespace(),
                "-address", ctx.grpcAddress(),
                "-publish-binary", ctx.publishBinary().toString(),
                "-id", ctx.id()));
        cmd.addAll(List.of(tail));
        return cmd;
    }

    private static ProcessBuilder builder(List<String> cmd, Context ctx) {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ctx.bundle().toFile());
        Map<String, String> env = pb.environment();
        env.put("TTRPC_ADDRESS", ctx.ttrpcAddress().toString());
        env.put("GOMAXPROCS", "2");
        return pb;
    }

    /** What a finished shim action printed. */
    private record Output(int exitCode, byte[] stdout, String stderr) {
    }

    private Output run(List<String> cmd, Context ctx, byte[] stdin, Duration timeout) {
        Process process;
        try {
            process = builder(cmd, ctx).start();
        } catch (IOException e) {
            throw IoFailureException.of("cannot run " + String.join(" ", cmd), e);
        }
        CompletableFuture<String> stderr = new CompletableFuture<>();
        ioThreads.execute(() -> {
            try (InputStream err = process.getErrorStream()) {
                stderr.complete(new String(err.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                stderr.complete("");
            }
        });
        try {
            try (OutputStream in = process.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin);
                }
            } catch (IOException e) {
                // the shim did not read its stdin (no options wanted); not an error by itself
            }
            byte[] out;
            try (InputStream stdout = process.getInputStream()) {
                out = stdout.readAllBytes();
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new UnavailableException(String.join(" ", cmd) + " did not finish within " + timeout);
            }
            String err = stderr.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return new Output(process.exitValue(), out, err.trim());
        } catch (IOException e) {
            throw IoFailureException.of("cannot talk to " + String.join(" ", cmd), e);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new dev.berth.api.CanceledException("interrupted while running " + cmd.get(0));
        } catch (ExecutionException | TimeoutException e) {
            throw new UnavailableException("cannot read stderr of " + cmd.get(0) + ": " + e, e);
        }
    }

    /**
     * Runs {@code <shim> ... start} in the bundle with {@code options} (a serialized {@code Any}) on stdin
     * and returns the socket path the shim printed on stdout. stderr never counts as output (containerd
     * 1.6 merges them and breaks on any warning); it is logged.
     */
    @Override
    public Path start(Path shim, Context ctx, byte[] options) {
        List<String> cmd = command(shim, ctx, "start");
        Output out = run(cmd, ctx, options, START_TIMEOUT);
        String stdout = new String(out.stdout(), StandardCharsets.UTF_8).trim();
        if (out.exitCode() != 0) {
            throw new BerthException("shim " + shim + " start for " + ctx.namespace() + "/" + ctx.id()
                    + " failed with exit code " + out.exitCode() + ": "
                    + (out.stderr().isEmpty() ? stdout : out.stderr()));
        }
        if (!out.stderr().isEmpty()) {
            log.warn("shim {} start for {}/{}: {}", shim, ctx.namespace(), ctx.id(), out.stderr());
        }
        return parseAddress(stdout, shim);
    }

    /** Accepts a plain {@code unix://} address (1.6) or the 1.7+ JSON bootstrap form. */
    static Path parseAddress(String output, Path shim) {
        String address = output;
        if (output.startsWith("{")) {
            JsonNode node;
            try {
                node = JSON.readTree(output);
            } catch (IOException e) {
                throw new BerthException("shim " + shim + " printed malformed bootstrap JSON: " + output);
            }
            String protocol = node.path("protocol").asText("ttrpc");
            if (!protocol.equals("ttrpc")) {
                throw new NotImplementedException("shim " + shim + " wants protocol " + protocol
                        + "; only ttrpc shims are supported");
            }
            int version = node.path("version").asInt(2);
            if (version != 2) {
                throw new NotImplementedException("shim " + shim + " speaks shim API version " + version
                        + "; only version 2 is supported");
            }
            address = node.path("address").asText("");
        }
        if (address.startsWith("unix://")) {
            return Path.of(address.substring("unix://".length()));
        }
        if (address.isEmpty()) {
            throw new BerthException("shim " + shim + " start printed no address");
        }
        throw new NotImplementedException("shim " + shim + " returned address \"" + address
                + "\": only unix:// socket paths are supported");
    }

    /**
     * Runs {@code <shim> ... -bundle <bundle> delete}, the cleanup of a shim that died or cannot be
     * reached, and returns the {@code DeleteResponse} it prints (pid and exit status of the init process).
     */
    @Override
    public DeleteResponse delete(Path shim, Context ctx) {
        List<String> cmd = command(shim, ctx, "-bundle", ctx.bundle().toString(), "delete");
        Output out = run(cmd, ctx, null, START_TIMEOUT);
        if (!out.stderr().isEmpty()) {
            log.warn("shim {} delete for {}/{}: {}", shim, ctx.namespace(), ctx.id(), out.stderr());
        }
        if (out.exitCode() != 0) {
            throw new BerthException("shim " + shim + " delete for " + ctx.namespace() + "/" + ctx.id()
                    + " failed with exit code " + out.exitCode() + ": " + out.stderr());
        }
        try {
            return DeleteResponse.parseFrom(out.stdout());
        } catch (IOException e) {
            throw new BerthException("shim " + shim + " delete printed a malformed DeleteResponse", e);
        }
    }
}
