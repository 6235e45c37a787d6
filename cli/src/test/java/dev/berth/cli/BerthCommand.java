package dev.berth.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs the {@code bin/berth} launcher, as a user would, against one root and state directory. */
final class BerthCommand {
    static final Path BIN = Path.of(System.getProperty("user.dir")).getParent().resolve("bin/berth");

    /** What a call printed and its exit code. */
    record Result(int exitCode, String stdout, String stderr) {
    }

    private final Path root;
    private final Path state;

    BerthCommand(Path root, Path state) {
        this.root = root;
        this.state = state;
    }

    Result run(String... args) throws IOException, InterruptedException {
        return run(null, args);
    }

    /** Runs with {@code stdin} as standard input: a file redirected, or (for a pipe) bytes written to it. */
    Result withInput(Object stdin, String... args) throws IOException, InterruptedException {
        return run(stdin, args);
    }

    private Result run(Object stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(BIN.toString(), "--root", root.toString(),
                "--state", state.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        if (stdin instanceof Path file) {
            pb.redirectInput(file.toFile());
        }
        Process p = pb.start();
        if (stdin instanceof byte[] bytes) {
            CompletableFuture.runAsync(() -> {
                try (var in = p.getOutputStream()) {
                    in.write(bytes);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } else {
            p.getOutputStream().close();
        }
        return finish(p, args);
    }

    /** Reads a started call's output until it exits (at most 2 minutes); {@code args} name it in a failure. */
    static Result finish(Process p, String... args) throws InterruptedException {
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("berth " + String.join(" ", args) + " did not finish");
        }
        return new Result(p.exitValue(), out, err.join());
    }

    /**
     * Runs the command on a pseudo-terminal ({@code script -qec}, TERM=xterm), as from an interactive shell;
     * the terminal merges stdout and stderr, so both are in {@link Result#stdout}.
     */
    Result onTerminal(String... args) throws IOException, InterruptedException {
        StringBuilder line = new StringBuilder(quote(BIN.toString()));
        for (String a : List.of("--root", root.toString(), "--state", state.toString())) {
            line.append(' ').append(quote(a));
        }
        for (String a : args) {
            line.append(' ').append(quote(a));
        }
        ProcessBuilder pb = new ProcessBuilder("script", "-qec", line.toString(), "/dev/null");
        pb.environment().put("TERM", "xterm");
        pb.environment().remove("BERTH_PROGRESS");
        Process p = pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("berth " + String.join(" ", args) + " did not finish on a terminal");
        }
        return new Result(p.exitValue(), out, err.join());
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static String read(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
