package dev.berth.snapshot;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.Out;

/** lsetxattr/lgetxattr for tests (the JDK can only reach {@code user.*} attributes of regular files). */
final class TestXattrs {
    public interface Lib {
        int lsetxattr(String path, String name, byte[] value, long size, int flags);

        long lgetxattr(String path, String name, @Out byte[] value, long size);
    }

    private static final Lib LIB = LibraryLoader.create(Lib.class).load("c");

    private TestXattrs() {
    }

    static void set(Path p, String name, byte[] value) {
        if (LIB.lsetxattr(p.toString(), name, value, value.length, 0) != 0) {
            throw new IllegalStateException("lsetxattr " + name + " on " + p + " failed");
        }
    }

    static void set(Path p, String name, String value) {
        set(p, name, value.getBytes(StandardCharsets.UTF_8));
    }

    static Optional<byte[]> get(Path p, String name) {
        byte[] buf = new byte[4096];
        long n = LIB.lgetxattr(p.toString(), name, buf, buf.length);
        return n < 0 ? Optional.empty() : Optional.of(Arrays.copyOf(buf, (int) n));
    }
}
