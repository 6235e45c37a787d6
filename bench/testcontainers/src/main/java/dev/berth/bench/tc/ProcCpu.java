package dev.berth.bench.tc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This process's CPU time (user + system, all threads) from {@code /proc/self/stat}, without loading JMX. */
final class ProcCpu {
    private ProcCpu() {
    }

    /** Seconds of CPU this process has used so far (clock ticks of 10 ms). */
    static double seconds() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // after the command: state is field 3, utime 14, stime 15 (1-based over the whole line)
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        } catch (IOException e) {
            return -1;
        }
    }
}
