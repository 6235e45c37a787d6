package dev.berth.sys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One process, told apart from a later one with the same pid by its start time ({@code /proc/<pid>/stat}
 * field 22, clock ticks since boot). See {@link Syscalls#signal(ProcessStart, int)}.
 */
public record ProcessStart(long pid, long startTicks) {
    /** Process {@code pid} as it is now; empty if there is none. */
    public static Optional<ProcessStart> of(long pid) {
        return startTicks(pid).map(t -> new ProcessStart(pid, t));
    }

    static Optional<Long> startTicks(long pid) {
        String stat;
        try {
            stat = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "stat")), StandardCharsets.US_ASCII);
        } catch (NoSuchFileException gone) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // exiting as it was read
        }
        // the command name (field 2) may hold spaces and parentheses: count fields after its last ')'
        String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return rest.length > 19 ? Optional.of(Long.parseLong(rest[19])) : Optional.empty();
    }
}
