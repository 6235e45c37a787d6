package dev.berth.sys.sqlite;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * sqlite-jdbc's native library, extracted once per directory instead of once per JVM. Without it every JVM
 * that opens a database runs {@code uname -o} (sqlite-jdbc's Android check), copies the 1 MiB library out of
 * the jar into {@code java.io.tmpdir} and reads both back to compare them: a fork and about 3 MiB of I/O on
 * the path of a fresh JVM's first container. Here the library is copied (atomically: temporary file, then
 * rename) to {@code <dir>/.sqlite-native/libsqlitejdbc-<crc>-<size>.so}, keyed by the jar entry's CRC and
 * size, so another sqlite-jdbc version gets its own file; later JVMs point sqlite-jdbc's own {@code
 * org.sqlite.lib.path}/{@code org.sqlite.lib.name} at it and load it as it is.
 *
 * <p>Only on glibc Linux x86_64 and aarch64 (other systems keep sqlite-jdbc's own loading), only when
 * nothing set those properties already, and only before this JVM first loads the library. Off with
 * {@code -Dberth.sqlite.nativeCache=false}.
 */
final class NativeLibraryCache {
    /** The system property that turns the cache off ({@code false}). */
    static final String PROPERTY = "berth.sqlite.nativeCache";
    private static final String PATH_PROPERTY = "org.sqlite.lib.path";
    private static final String NAME_PROPERTY = "org.sqlite.lib.name";
    private static final String TMPDIR_PROPERTY = "org.sqlite.tmpdir";
    private static final Logger LOG = LoggerFactory.getLogger(NativeLibraryCache.class);
    private static final AtomicBoolean DONE = new AtomicBoolean();

    private NativeLibraryCache() {
    }

    /** Points sqlite-jdbc at the library cached under {@code dir}, caching it first; once per JVM. */
    static void use(Path dir) {
        if (!DONE.compareAndSet(false, true) || "false".equals(System.getProperty(PROPERTY))
                || System.getProperty(PATH_PROPERTY) != null || System.getProperty(NAME_PROPERTY) != null) {
            return;
        }
        try {
            Optional<Path> lib = cached(dir);
            if (lib.isPresent()) {
                System.setProperty(NAME_PROPERTY, lib.get().getFileName().toString());
                System.setProperty(PATH_PROPERTY, lib.get().getParent().toString());
                // sqlite-jdbc lists its temporary directory for stale extractions at every first load (the
                // whole of /tmp by default); with the library cached it extracts nothing, so list this one
                if (System.getProperty(TMPDIR_PROPERTY) == null) {
                    System.setProperty(TMPDIR_PROPERTY, lib.get().getParent().toString());
                }
            }
        } catch (IOException | RuntimeException e) {
            // sqlite-jdbc then extracts the library itself, as without the cache
            LOG.debug("cannot cache sqlite-jdbc's native library under {}: {}", dir, e.toString());
        }
    }

    /**
     * The library in {@code dir/.sqlite-native}, written there if missing; empty where sqlite-jdbc's own
     * loading is kept (another OS or architecture, musl, the library not found in the jar).
     */
    static Optional<Path> cached(Path dir) throws IOException {
        Optional<String> resource = resource();
        if (resource.isEmpty()) {
            return Optional.empty();
        }
        ClassLoader loader = driverLoader();
        URL url = loader == null ? ClassLoader.getSystemResource(resource.get()) : loader.getResource(resource.get());
        if (url == null) {
            return Optional.empty();
        }
        URLConnection conn = url.openConnection();
        String key;
        if (conn instanceof JarURLConnection jar) {
            jar.setUseCaches(true);
            var entry = jar.getJarEntry();
            if (entry.getCrc() < 0 || entry.getSize() < 0) {
                return Optional.empty();
            }
            key = Long.toHexString(entry.getCrc()) + "-" + entry.getSize();
        } else {
            return Optional.empty(); // not from a jar (an exploded class path): nothing stable to key on
        }
        Path cacheDir = dir.resolve(".sqlite-native");
        Path lib = cacheDir.resolve("libsqlitejdbc-" + key + ".so");
        if (Files.isRegularFile(lib) && Files.size(lib) == conn.getContentLengthLong()) {
            return Optional.of(lib);
        }
        Files.createDirectories(cacheDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path tmp = Files.createTempFile(cacheDir, "libsqlitejdbc-", ".tmp");
        try {
            try (InputStream in = conn.getInputStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r-x------"));
            try {
                Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                return Optional.empty();
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return Optional.of(lib);
    }

    /** sqlite-jdbc's resource for this system, named without running sqlite-jdbc's own probes. */
    private static Optional<String> resource() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")
                || Files.exists(Path.of("/lib/ld-musl-x86_64.so.1")) || Files.exists(Path.of("/lib/ld-musl-aarch64.so.1"))) {
            return Optional.empty();
        }
        String arch = switch (System.getProperty("os.arch", "")) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64" -> "aarch64";
            default -> null;
        };
        return Optional.ofNullable(arch).map(a -> "org/sqlite/native/Linux/" + a + "/libsqlitejdbc.so");
    }

    private static ClassLoader driverLoader() {
        try {
            return Class.forName("org.sqlite.JDBC", false, NativeLibraryCache.class.getClassLoader()).getClassLoader();
        } catch (ClassNotFoundException e) {
            return NativeLibraryCache.class.getClassLoader();
        }
    }
}
