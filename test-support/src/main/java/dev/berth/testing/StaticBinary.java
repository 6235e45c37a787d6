package dev.berth.testing;

import dev.berth.api.FailedPreconditionException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small program written in C for a test image, compiled at test time with the host's {@code gcc} into
 * a statically linked executable, so it runs in a busybox image that has no libc (for what busybox has no
 * applet for, such as a UDP server). Add it to an image with {@link Busybox#imageWith}.
 */
public final class StaticBinary {
    private StaticBinary() {
    }

    /**
     * Compiles {@code source} (one C file) with {@code gcc -static -Os} and returns the executable's bytes.
     *
     * @throws FailedPreconditionException if gcc or the static C library is missing (Debian: {@code gcc libc6-dev})
     * @throws IllegalArgumentException if the source does not compile (with gcc's messages)
     */
    public static byte[] compile(String source) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("berth-cc-");
            Path c = Files.writeString(dir.resolve("main.c"), source, StandardCharsets.UTF_8);
            Path out = dir.resolve("a.out");
            Process gcc;
            try {
                gcc = new ProcessBuilder(List.of("gcc", "-static", "-Os", "-Wall", "-o", out.toString(), c.toString()))
                        .redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new FailedPreconditionException("cannot run gcc to build a static test binary ("
                        + e.getMessage() + "): install Debian's gcc and libc6-dev (scripts/install-deps does)");
            }
            String messages = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!gcc.waitFor(120, TimeUnit.SECONDS)) {
                gcc.destroyForcibly();
                throw new IllegalStateException("gcc did not finish within 120 s");
            }
            if (gcc.exitValue() != 0) {
                if (messages.contains("cannot find -lc") || messages.contains("No such file or directory")
                        && messages.contains(".h")) {
                    throw new FailedPreconditionException("the static C library or its headers are missing: "
                            + "install Debian's libc6-dev (scripts/install-deps does)\n" + messages);
                }
                throw new IllegalArgumentException("the C source does not compile:\n" + messages);
            }
            return Files.readAllBytes(out);
        } catch (IOException e) {
            throw new UncheckedIOException("building a static test binary failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while gcc ran", e);
        } finally {
            if (dir != null) {
                try {
                    TestFiles.deleteTree(dir);
                } catch (IOException ignored) {
                    // a temporary directory; nothing depends on it
                }
            }
        }
    }
}
