package dev.berth.testing.internal;

import dev.berth.api.FailedPreconditionException;
import dev.berth.testing.TarEntry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Copies files of the host into layer entries at the same paths, keeping every symlink met on the way
 * (so {@code /lib64/ld-linux-x86-64.so.2} gives the entries {@code lib64 -> usr/lib64} and the real file
 * under {@code usr/lib/...}): the programs then find their loader, libraries and data where they were
 * built to look. Entries get the host's permission bits, owner 0:0 and {@link TarEntry#DEFAULT_MTIME};
 * hard links become separate copies. Not thread-safe.
 */
public final class HostFiles {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    private static final int MAX_LINKS = 40;

    /** By layer path (no leading or trailing slash); sorted, so parents come before their children. */
    private final Map<String, TarEntry> entries = new TreeMap<>();

    /** Adds {@code hostPath} (absolute) and, for a directory, nothing below it. */
    public HostFiles add(String hostPath) {
        addPath(Path.of(hostPath), 0);
        return this;
    }

    /** Adds {@code hostDir} and everything below it. */
    public HostFiles addTree(String hostDir) {
        try (Stream<Path> walk = Files.walk(Path.of(hostDir))) {
            walk.forEach(p -> addPath(p, 0));
        } catch (IOException e) {
            throw new UncheckedIOException("walking " + hostDir, e);
        }
        return this;
    }

    /** Adds an entry made elsewhere (replacing one of the same path). */
    public HostFiles put(TarEntry entry) {
        entries.put(strip(entry.name()), entry);
        return this;
    }

    /** Whether {@code layerPath} has an entry. */
    public boolean contains(String layerPath) {
        return entries.containsKey(strip(layerPath));
    }

    /** The entries, parents first. */
    public List<TarEntry> entries() {
        return List.copyOf(entries.values());
    }

    private void addPath(Path hostPath, int depth) {
        if (depth > MAX_LINKS) {
            throw new IllegalStateException("too many levels of symbolic links at " + hostPath);
        }
        Path absolute = hostPath.toAbsolutePath().normalize();
        Path real = Path.of("/");
        for (Path part : absolute) {
            Path next = real.resolve(part.toString());
            String name = strip(next.toString());
            try {
                if (Files.isSymbolicLink(next)) {
                    Path target = Files.readSymbolicLink(next);
                    entries.putIfAbsent(name, TarEntry.symlink(name, target.toString()));
                    Path resolved = real.resolve(target).normalize();
                    addPath(resolved, depth + 1);
                    real = resolved.toRealPath();
                } else if (Files.isDirectory(next, NOFOLLOW)) {
                    entries.putIfAbsent(name, TarEntry.dir(name).withMode(mode(next)));
                    real = next;
                } else if (Files.isRegularFile(next, NOFOLLOW)) {
                    if (!entries.containsKey(name)) {
                        entries.put(name, TarEntry.file(name, Files.readAllBytes(next)).withMode(mode(next)));
                    }
                    real = next;
                } else if (!Files.exists(next, NOFOLLOW)) {
                    throw new FailedPreconditionException(next + " is missing on this host");
                } else {
                    throw new IllegalStateException(next + " is neither a file, a directory nor a symlink");
                }
            } catch (IOException e) {
                throw new UncheckedIOException("copying " + next + " into a layer", e);
            }
        }
    }

    private static int mode(Path p) throws IOException {
        int mode = 0;
        for (PosixFilePermission perm : Files.getPosixFilePermissions(p, NOFOLLOW)) {
            mode |= 1 << (8 - perm.ordinal());
        }
        return mode;
    }

    private static String strip(String path) {
        String s = path;
        while (s.startsWith("/")) {
            s = s.substring(1);
        }
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return s;
    }

    /** Whether {@code file} is an ELF object (starts with {@code 0x7f 'E' 'L' 'F'}). */
    public static boolean isElf(Path file) {
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
    }

    /**
     * The shared libraries (and the program interpreter) that {@code ldd} resolves for the given ELF
     * files, as absolute host paths.
     *
     * @throws FailedPreconditionException if ldd cannot find a library
     */
    public static Set<String> sharedLibraries(List<Path> elfFiles) {
        Set<String> libs = new java.util.TreeSet<>();
        if (elfFiles.isEmpty()) {
            return libs;
        }
        List<String> cmd = new ArrayList<>();
        cmd.add("ldd");
        elfFiles.forEach(f -> cmd.add(f.toString()));
        String out;
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("ldd did not finish in 60 s");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("running ldd (Debian's libc-bin)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running ldd", e);
        }
        for (String raw : out.split("\n")) {
            String line = raw.strip();
            if (line.contains("=> not found")) {
                throw new FailedPreconditionException("ldd cannot resolve " + line + ": install the package that has it");
            }
            int arrow = line.indexOf("=> /");
            String path = arrow >= 0 ? line.substring(arrow + 3) : line.startsWith("/") && !line.endsWith(":") ? line : null;
            if (path != null) {
                int paren = path.indexOf(" (");
                libs.add(paren >= 0 ? path.substring(0, paren) : path);
            }
        }
        return libs;
    }
}
