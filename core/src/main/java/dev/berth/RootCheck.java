package dev.berth;

import dev.berth.api.FailedPreconditionException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Berth mounts overlays, chowns unpacked layers and starts runc: it needs root (uid 0, in the initial
 * user namespace or in one of its own). Checked before anything is created, so a non-root caller gets
 * this message instead of a failure deep in an unpack ({@code fchownat: EPERM}).
 */
final class RootCheck {
    private static final Path STATUS = Path.of("/proc/self/status");

    private RootCheck() {
    }

    static void requireRoot(Path root) {
        long euid = effectiveUid();
        if (euid > 0) { // -1: /proc unreadable; let the operations themselves say what fails
            throw new FailedPreconditionException(notRootMessage(euid, root));
        }
    }

    static String notRootMessage(long euid, Path root) {
        return "Berth must run as root: it mounts overlay snapshots, chowns image layers and starts runc"
                + " (this process runs as uid " + euid + "). Run it with sudo or as root, or as uid 0 in a user"
                + " namespace (unshare --map-root-user); nothing was created under " + root;
    }

    /** The effective uid from {@code /proc/self/status} ("Uid: real effective saved fs"); -1 if unreadable. */
    static long effectiveUid() {
        try {
            for (String line : Files.readAllLines(STATUS, StandardCharsets.US_ASCII)) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
