package dev.berth.runtime.internal;

import dev.berth.api.IoFailureException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Process liveness from {@code /proc}, for processes that are not this JVM's children (shims). */
final class ProcFs {
    private ProcFs() {
    }

    /** Whether {@code pid} exists and is not a zombie (a zombie has exited; its parent just has not reaped it). */
    static boolean isRunning(int pid) {
        if (pid <= 0) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            int close = stat.lastIndexOf(')');
            if (close < 0 || close + 2 >= stat.length()) {
                return true;
            }
            char state = stat.charAt(close + 2);
            return state != 'Z' && state != 'X';
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            return !Files.notExists(Path.of("/proc", Integer.toString(pid)));
        }
    }

    /**
     * Serving shim processes for a task: containerd 1.6 shims re-exec themselves as
     * {@code <shim> -namespace <ns> -id <id> -address <address> ...}, which names exactly one task of one
     * runtime (the address is per state directory).
     */
    static List<Long> shimProcesses(Path shim, String namespace, String id, String address) {
        String prefix = String.join("\0", shim.toString(), "-namespace", namespace, "-id", id, "-address", address)
                + "\0";
        List<Long> found = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : procs) {
                String name = p.getFileName().toString();
                if (name.isEmpty() || !name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmdline = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmdline.startsWith(prefix) && isRunning(Integer.parseInt(name))) {
                        found.add(Long.parseLong(name));
                    }
                } catch (IOException | NumberFormatException e) {
                    // gone while looking
                }
            }
        } catch (IOException e) {
            throw IoFailureException.of("cannot list /proc", e);
        }
        return found;
    }

    /** Waits up to {@code millis} for {@code pid} to stop running. */
    static boolean awaitGone(int pid, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        long sleep = 1;
        while (isRunning(pid)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(sleep);
            sleep = Math.min(sleep * 2, 20);
        }
        return true;
    }
}
