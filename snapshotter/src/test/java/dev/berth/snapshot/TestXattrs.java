package dev.berth.snapshot;

import dev.berth.sys.Syscalls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/** Extended attributes in any namespace for tests (the JDK can only reach {@code user.*} of regular files). */
final class TestXattrs {
    private TestXattrs() {
    }

    static void set(Path p, String name, byte[] value) {
        try {
            Syscalls.get().setXattr(p, name, value);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    static void set(Path p, String name, String value) {
        set(p, name, value.getBytes(StandardCharsets.UTF_8));
    }

    static Optional<byte[]> get(Path p, String name) {
        try {
            return Optional.ofNullable(Syscalls.get().lgetxattr(p.toString(), name));
        } catch (java.io.IOException e) {
            return Optional.empty();
        }
    }
}
