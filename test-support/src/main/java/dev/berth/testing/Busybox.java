package dev.berth.testing;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.Platform;
import dev.berth.testing.internal.DirectoryWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A minimal Linux root file system made from the host's statically linked {@code /bin/busybox}
 * (Debian {@code busybox-static}), as a directory ({@link #populate}), a layer or an image.
 *
 * <p>Contents: {@code /bin/busybox} (0755) and one symlink {@code /bin/<applet> -> busybox} per applet
 * the binary reports (so {@code /bin/sh} works); {@code /etc/passwd} with {@code root} (0),
 * {@code nobody} (65534) and {@code app} (1000:1000); {@code /etc/group}; {@code /tmp} (01777);
 * {@code /root} (0700); {@code /home/app} (0755, owned by 1000:1000); empty {@code /dev},
 * {@code /proc}, {@code /sys}. Every entry has mtime {@link TarEntry#DEFAULT_MTIME}, so a populated
 * directory and an unpacked busybox layer are identical trees (see {@link FileTree}).
 *
 * <p>The image's config: platform = the host's, {@code Entrypoint ["/bin/sh"]},
 * {@code Env [PATH=...]}. Everything is built once per JVM and cached; all methods are thread-safe.
 */
public final class Busybox {
    /** The binary everything is built from. */
    public static final Path BINARY = Path.of("/bin/busybox");
    /** The image's PATH. */
    public static final String PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /** The unprivileged user in {@code /etc/passwd}. */
    public static final int APP_UID = 1000;
    public static final int APP_GID = 1000;

    static final String PASSWD = """
            root:x:0:0:root:/root:/bin/sh
            nobody:x:65534:65534:nobody:/nonexistent:/bin/false
            app:x:1000:1000:app:/home/app:/bin/sh
            """;
    static final String GROUP = """
            root:x:0:
            nobody:x:65534:
            app:x:1000:
            """;

    private static volatile List<TarEntry> entries;
    private static final Map<Compression, TestImage> IMAGES = new EnumMap<>(Compression.class);

    private Busybox() {
    }

    /**
     * Writes the busybox root file system into {@code rootfs} (created if missing; existing files of
     * the same names are replaced), with modes, owners and mtimes as in the layer. Needs root (chown).
     *
     * @throws FailedPreconditionException if {@code /bin/busybox} is missing
     */
    public static void populate(Path rootfs) {
        try {
            DirectoryWriter.write(entries(), rootfs);
        } catch (IOException e) {
            throw new UncheckedIOException("populating busybox rootfs " + rootfs + " failed", e);
        }
    }

    /** The entries of the busybox layer, in the order written (parents before children). */
    public static List<TarEntry> entries() {
        List<TarEntry> result = entries;
        if (result == null) {
            synchronized (Busybox.class) {
                result = entries;
                if (result == null) {
                    result = buildEntries();
                    entries = result;
                }
            }
        }
        return result;
    }

    /** The applet names {@code /bin/busybox --list} reports, in its order. */
    public static List<String> applets() {
        return entries().stream()
                .filter(e -> e.typeFlag() == TarEntry.SYMLINK && e.name().startsWith("bin/"))
                .map(e -> e.name().substring(4))
                .toList();
    }

    /** The busybox layer, gzip-compressed. */
    public static TestLayer layer() {
        return image().layers().get(0);
    }

    /** The busybox layer with the given compression. */
    public static TestLayer layer(Compression compression) {
        return image(compression).layers().get(0);
    }

    /** The busybox image with a gzip layer (OCI media types). */
    public static TestImage image() {
        return image(Compression.GZIP);
    }

    /** The busybox image with its layer compressed as given ({@code NONE}, {@code GZIP}, {@code ZSTD}). */
    public static TestImage image(Compression compression) {
        synchronized (IMAGES) {
            return IMAGES.computeIfAbsent(compression, c -> imageBuilder(LayerBuilder.create()
                    .entries(entries()).build(c)).build());
        }
    }

    /**
     * A two-platform OCI index: {@link #image()} for the host's platform, and for the other of
     * {@code linux/amd64} / {@code linux/arm64} a small image whose only layer holds {@code /platform}
     * (its platform as text). For tests of platform selection; the host entry is listed first.
     */
    public static TestIndex multiPlatformIndex() {
        Platform host = Platform.host();
        Platform other = host.architecture().equals("amd64") ? new Platform("linux", "arm64")
                : new Platform("linux", "amd64");
        TestImage foreign = TestImageBuilder.create()
                .platform(other)
                .layer(LayerBuilder.create().file("platform", other + "\n").build())
                .entrypoint("/bin/sh")
                .env(PATH)
                .build();
        return IndexBuilder.create().manifest(image()).manifest(foreign).build();
    }

    /**
     * The busybox image with {@code files} added on top in a second layer: path in the image (no leading
     * slash) to content, each a regular file with mode 0755 (for a program such as a {@link StaticBinary}).
     */
    public static TestImage imageWith(Map<String, byte[]> files) {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no files to add to the busybox image");
        }
        LayerBuilder extra = LayerBuilder.create().parents();
        files.forEach((path, content) -> {
            if (path.startsWith("/") || path.isEmpty()) {
                throw new IllegalArgumentException("image path must be relative and not empty: \"" + path + "\"");
            }
            extra.file(path, content, 0755);
        });
        return imageBuilder(layer()).layer(extra.build()).history("COPY test files", false).build();
    }

    /**
     * An {@link TestImageBuilder} preset with busybox's platform and config and {@code layer} as its only
     * layer, for variants (Docker media types, extra layers, other config).
     */
    public static TestImageBuilder imageBuilder(TestLayer layer) {
        return TestImageBuilder.create()
                .platform(Platform.host())
                .layer(layer)
                .entrypoint("/bin/sh")
                .env(PATH)
                .history("COPY busybox-static /bin/busybox", false);
    }

    private static List<TarEntry> buildEntries() {
        if (!Files.isRegularFile(BINARY)) {
            throw new FailedPreconditionException(BINARY + " is missing: install Debian's busybox-static");
        }
        byte[] binary;
        try {
            binary = Files.readAllBytes(BINARY);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + BINARY, e);
        }
        LayerBuilder b = LayerBuilder.create()
                .dir("bin")
                .file("bin/busybox", binary, 0755);
        for (String applet : listApplets()) {
            if (!applet.equals("busybox")) {
                b.symlink("bin/" + applet, "busybox");
            }
        }
        b.dir("dev")
                .dir("etc")
                .file("etc/group", GROUP)
                .file("etc/passwd", PASSWD)
                .dir("home")
                .entry(TarEntry.dir("home/app").withOwner(APP_UID, APP_GID))
                .dir("proc")
                .dir("root", 0700)
                .dir("sys")
                .dir("tmp", 01777);
        return b.entries();
    }

    private static List<String> listApplets() {
        try {
            Process p = new ProcessBuilder(BINARY.toString(), "--list").redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new FailedPreconditionException(BINARY + " --list failed: " + out);
            }
            List<String> applets = new ArrayList<>();
            for (String line : out.split("\n")) {
                String name = line.strip();
                if (!name.isEmpty() && !name.contains("/")) {
                    applets.add(name);
                }
            }
            return applets;
        } catch (IOException e) {
            throw new UncheckedIOException("running " + BINARY + " --list", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + BINARY + " --list", e);
        }
    }
}
