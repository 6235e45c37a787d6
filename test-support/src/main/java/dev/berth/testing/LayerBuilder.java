package dev.berth.testing;

import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.testing.internal.TarWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipParameters;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorOutputStream;

/**
 * Builds an image layer (a tar, optionally gzip or zstd compressed) entry by entry, in memory.
 *
 * <pre>{@code
 * TestLayer layer = LayerBuilder.create()
 *         .dir("etc").file("etc/motd", "hello\n")
 *         .symlink("bin/sh", "busybox")
 *         .whiteout("var/cache")
 *         .build(Compression.ZSTD);
 * }</pre>
 *
 * <p>The convenience methods ({@link #file}, {@link #dir}, ...) take paths relative to the layer root
 * and drop a leading {@code /}; they use this builder's default mtime ({@link TarEntry#DEFAULT_MTIME}
 * unless changed) and owner (0:0). {@link #entry(TarEntry)} writes an entry verbatim, which is how
 * hostile archives ({@code ../escape}, absolute names, duplicates, files below symlinks) are made.
 *
 * <p>Output is deterministic: fixed mtimes, empty user/group names, gzip without a timestamp, and
 * entries in the order added (or sorted by name with {@link #sorted()}), so the same calls always
 * give the same digests. Not thread-safe; a builder may be built several times.
 */
public final class LayerBuilder {
    private final List<TarEntry> entries = new ArrayList<>();
    private Instant mtime = TarEntry.DEFAULT_MTIME;
    private long uid;
    private long gid;
    private boolean sorted;
    private boolean parents;

    private LayerBuilder() {
    }

    public static LayerBuilder create() {
        return new LayerBuilder();
    }

    /** The mtime of entries added by later convenience calls. */
    public LayerBuilder defaultMtime(Instant newMtime) {
        this.mtime = Objects.requireNonNull(newMtime, "mtime");
        return this;
    }

    /** The owner of entries added by later convenience calls. */
    public LayerBuilder defaultOwner(long newUid, long newGid) {
        this.uid = newUid;
        this.gid = newGid;
        return this;
    }

    /**
     * Writes entries sorted by name (byte order of the name; entries with equal names keep their
     * order) instead of in the order added. Do not use it for archives whose meaning depends on order.
     */
    public LayerBuilder sorted() {
        this.sorted = true;
        return this;
    }

    /**
     * Adds a directory entry (0755, default owner and mtime) for every missing ancestor of an entry,
     * right before the first entry below it. Ancestors that have their own entry anywhere in the layer
     * are not added again.
     */
    public LayerBuilder parents() {
        this.parents = true;
        return this;
    }

    /** A regular file, mode 0644. */
    public LayerBuilder file(String path, byte[] content) {
        return add(TarEntry.file(rel(path), content));
    }

    /** A regular file holding {@code content} in UTF-8, mode 0644. */
    public LayerBuilder file(String path, String content) {
        return file(path, content.getBytes(StandardCharsets.UTF_8));
    }

    /** A regular file with the given mode (e.g. {@code 0755}, {@code 04755}). */
    public LayerBuilder file(String path, byte[] content, int mode) {
        return add(TarEntry.file(rel(path), content).withMode(mode));
    }

    /** A directory, mode 0755. */
    public LayerBuilder dir(String path) {
        return add(TarEntry.dir(rel(path)));
    }

    /** A directory with the given mode (e.g. {@code 01777}). */
    public LayerBuilder dir(String path, int mode) {
        return add(TarEntry.dir(rel(path)).withMode(mode));
    }

    /** A symbolic link; {@code target} is stored verbatim (absolute, relative or escaping). */
    public LayerBuilder symlink(String path, String target) {
        return add(TarEntry.symlink(rel(path), target));
    }

    /** A hard link to the earlier entry {@code target} (a layer-relative path; a leading / is dropped). */
    public LayerBuilder hardlink(String path, String target) {
        return add(TarEntry.hardlink(rel(path), rel(target)));
    }

    /** A whiteout deleting {@code path} of lower layers ({@code <dir>/.wh.<name>}). */
    public LayerBuilder whiteout(String path) {
        return add(TarEntry.whiteout(rel(path)));
    }

    /** The opaque marker for {@code dir} ({@code <dir>/.wh..wh..opq}); {@code ""} is the root. */
    public LayerBuilder opaque(String dir) {
        return add(TarEntry.opaque(rel(dir)));
    }

    public LayerBuilder charDevice(String path, int major, int minor) {
        return add(TarEntry.charDevice(rel(path), major, minor));
    }

    public LayerBuilder blockDevice(String path, int major, int minor) {
        return add(TarEntry.blockDevice(rel(path), major, minor));
    }

    public LayerBuilder fifo(String path) {
        return add(TarEntry.fifo(rel(path)));
    }

    /** Adds {@code entry} exactly as it is: name, mode, owner and mtime are not touched. */
    public LayerBuilder entry(TarEntry entry) {
        entries.add(Objects.requireNonNull(entry, "entry"));
        return this;
    }

    /** Adds each entry verbatim, in order. */
    public LayerBuilder entries(List<TarEntry> more) {
        more.forEach(this::entry);
        return this;
    }

    private LayerBuilder add(TarEntry e) {
        return entry(e.withMtime(mtime).withOwner(uid, gid));
    }

    private static String rel(String path) {
        Objects.requireNonNull(path, "path");
        int i = 0;
        while (i < path.length() && path.charAt(i) == '/') {
            i++;
        }
        return path.substring(i);
    }

    /** The entries as they will be written (sorted and with parents if so configured). */
    public List<TarEntry> entries() {
        List<TarEntry> out = new ArrayList<>(entries);
        if (sorted) {
            out.sort(Comparator.comparing(e -> e.name().getBytes(StandardCharsets.UTF_8),
                    java.util.Arrays::compareUnsigned));
        }
        if (parents) {
            out = withParents(out);
        }
        return List.copyOf(out);
    }

    private List<TarEntry> withParents(List<TarEntry> in) {
        Set<String> present = new HashSet<>();
        for (TarEntry e : in) {
            if (e.isDirectory()) {
                present.add(stripSlash(e.name()));
            }
        }
        List<TarEntry> out = new ArrayList<>();
        for (TarEntry e : in) {
            Set<String> missing = new LinkedHashSet<>();
            String name = stripSlash(e.name());
            for (int slash = name.indexOf('/'); slash > 0; slash = name.indexOf('/', slash + 1)) {
                String ancestor = name.substring(0, slash);
                if (present.add(ancestor)) {
                    missing.add(ancestor);
                }
            }
            for (String m : missing) {
                out.add(TarEntry.dir(m).withMtime(mtime).withOwner(uid, gid));
            }
            out.add(e);
        }
        return out;
    }

    private static String stripSlash(String name) {
        return name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
    }

    /** The uncompressed tar. */
    public byte[] tar() {
        return TarWriter.toBytes(entries());
    }

    /** Writes the uncompressed tar to {@code out} (not closed). */
    public void writeTar(OutputStream out) throws IOException {
        TarWriter.write(entries(), out);
    }

    /** The layer, gzip-compressed. */
    public TestLayer build() {
        return build(Compression.GZIP);
    }

    /**
     * The layer compressed with {@code compression} ({@link Compression#NONE}, {@link Compression#GZIP}
     * or {@link Compression#ZSTD}).
     *
     * @throws InvalidArgumentException for {@link Compression#UNKNOWN}
     */
    public TestLayer build(Compression compression) {
        List<TarEntry> list = entries();
        return fromTar(TarWriter.toBytes(list), list, compression);
    }

    static TestLayer fromTar(byte[] tar, List<TarEntry> entries, Compression compression) {
        byte[] blob = compress(tar, compression);
        return new TestLayer(blob, tar, compression, Digest.sha256(blob), Digest.sha256(tar), entries);
    }

    /** {@code bytes} compressed deterministically (gzip without name or timestamp; zstd level 3). */
    public static byte[] compress(byte[] bytes, Compression compression) {
        Objects.requireNonNull(compression, "compression");
        if (compression == Compression.NONE) {
            return bytes;
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream(bytes.length / 2 + 64);
        try {
            switch (compression) {
                case GZIP -> {
                    GzipParameters params = new GzipParameters();
                    params.setModificationTime(0);
                    try (OutputStream gz = new GzipCompressorOutputStream(buf, params)) {
                        gz.write(bytes);
                    }
                }
                case ZSTD -> {
                    try (OutputStream zs = ZstdCompressorOutputStream.builder().setOutputStream(buf).setLevel(3).get()) {
                        zs.write(bytes);
                    }
                }
                default -> throw new InvalidArgumentException(
                        "cannot compress a layer with " + compression + ": use NONE, GZIP or ZSTD");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("compressing with " + compression + " failed", e);
        }
        return buf.toByteArray();
    }
}
