package dev.berth.network.internal;

import dev.berth.api.IoFailureException;
import dev.berth.api.FailedPreconditionException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a short host tool (mount, umount, unshare, ip) and returns its output, or fails naming it. */
public final class Commands {
    private Commands() {
    }

    /** The exit status and combined output of {@code argv}. */
    public record Result(int exit, String output) {
    }

    public static Result run(List<String> argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE)
                    .start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new FailedPreconditionException(String.join(" ", argv) + " did not finish within 30 s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            throw IoFailureException.of("cannot run " + argv.get(0), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new dev.berth.api.CanceledException("interrupted while running " + String.join(" ", argv));
        }
    }

    /** Runs {@code argv}; a non-zero exit is a {@link FailedPreconditionException} with its output. */
    public static String check(List<String> argv) {
        Result r = run(argv);
        if (r.exit() != 0) {
            throw new FailedPreconditionException(String.join(" ", argv) + " failed (exit " + r.exit() + "): "
                    + r.output());
        }
        return r.output();
    }
}
