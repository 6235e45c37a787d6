package dev.berth.snapshot.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether this process runs inside a user namespace (its uid map is not the identity over all ids). */
final class UserNamespace {
    private static volatile Boolean cached;

    private UserNamespace() {
    }

    static boolean inUserNamespace() {
        Boolean c = cached;
        if (c == null) {
            c = detect();
            cached = c;
        }
        return c;
    }

    private static boolean detect() {
        try {
            String map = Files.readString(Path.of("/proc/self/uid_map")).trim();
            String[] f = map.split("\\s+");
            return !(f.length == 3 && f[0].equals("0") && f[1].equals("0") && f[2].equals("4294967295"));
        } catch (IOException e) {
            return false;
        }
    }
}
