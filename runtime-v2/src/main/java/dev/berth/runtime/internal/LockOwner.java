package dev.berth.runtime.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/** Which process holds a POSIX lock on a file, from {@code /proc/locks}; for error messages only. */
final class LockOwner {
    private LockOwner() {
    }

    /** The pid of a process holding a lock on {@code file}, if the kernel lists one. */
    static OptionalLong pidOf(Path file) {
        try {
            long ino = ((Number) Files.getAttribute(file, "unix:ino")).longValue();
            long dev = ((Number) Files.getAttribute(file, "unix:dev")).longValue();
            long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
            long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
            String id = String.format("%02x:%02x:%d", major, minor, ino);
            for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
                // "1: POSIX  ADVISORY  WRITE 1234 fe:00:2154515 0 EOF"; waiting locks are "1: -> POSIX ..."
                String[] f = line.trim().split("\\s+");
                if (f.length >= 6 && !f[1].equals("->") && f[5].equals(id)) {
                    return OptionalLong.of(Long.parseLong(f[4]));
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc, no unix attribute view, or an unexpected format: say less
        }
        return OptionalLong.empty();
    }
}
