package dev.berth.testing;

import dev.berth.api.Digest;
import dev.berth.api.Digester;
import dev.berth.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * A recorded directory tree: every entry's type, mode (with setuid/setgid/sticky), owner, size,
 * content digest, symlink target, hardlink group, extended attributes in every namespace
 * ({@code user.*}, {@code trusted.*}, {@code security.*}) byte-exact, mtime to the nanosecond and
 * device numbers. Two trees (e.g. one image unpacked by two snapshotters) are compared with
 * {@link #diff} / {@link #diffReport}.
 *
 * <pre>{@code
 * assertThat(FileTree.scan(a).diffReport(FileTree.scan(b), Attribute.DIRECTORY_MTIME)).isEmpty();
 * }</pre>
 *
 * <p>Paths are absolute within the tree: the root is {@code /}, below it {@code /bin/sh}. A scan never
 * follows symlinks. Instances are immutable and thread-safe. Reading {@code trusted.*} xattrs needs root.
 */
public final class FileTree {
    /** The kind of a file. */
    public enum Type { REGULAR, DIRECTORY, SYMLINK, CHAR_DEVICE, BLOCK_DEVICE, FIFO, SOCKET }

    /** What {@link #diff} compares; pass some to ignore them. */
    public enum Attribute {
        TYPE, MODE, OWNER, SIZE, CONTENT, LINK_TARGET, HARDLINK, XATTRS,
        /** mtime of everything but directories. */
        MTIME,
        /** mtime of directories (changes whenever an entry is added or removed). */
        DIRECTORY_MTIME,
        DEVICE
    }

    /**
     * One recorded file.
     *
     * @param path          {@code /} or {@code /a/b}
     * @param mode          permission bits incl. setuid (04000), setgid (02000), sticky (01000)
     * @param size          byte size of a regular file, 0 for everything else
     * @param content       sha256 of a regular file's bytes, null for everything else
     * @param linkTarget    a symlink's target verbatim, null for everything else
     * @param hardlinkGroup for a non-directory with more than one link: the first path (in sort order)
     *                      of this tree sharing its inode (so equal structures compare equal across
     *                      trees); null otherwise
     * @param xattrs        name to value; the value is escaped: printable ASCII as is, backslash as
     *                      {@code \\}, every other byte as {@code \xNN}
     * @param devMajor      major device number of a device node, else 0
     * @param devMinor      minor device number of a device node, else 0
     */
    public record Entry(String path, Type type, int mode, long uid, long gid, long size, Digest content,
                        String linkTarget, String hardlinkGroup, SortedMap<String, String> xattrs,
                        Instant mtime, int devMajor, int devMinor) {
        public Entry {
            xattrs = Collections.unmodifiableSortedMap(new TreeMap<>(xattrs));
        }

        /** {@code ls -l} style: type and mode, owner, size or device, mtime, path, link target. */
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            sb.append(modeString(type, mode)).append(' ').append(uid).append(':').append(gid).append(' ');
            if (type == Type.CHAR_DEVICE || type == Type.BLOCK_DEVICE) {
                sb.append(devMajor).append(',').append(devMinor);
            } else {
                sb.append(size);
            }
            sb.append(' ').append(mtime).append(' ').append(path);
            if (linkTarget != null) {
                sb.append(" -> ").append(linkTarget);
            }
            if (hardlinkGroup != null) {
                sb.append(" [link ").append(hardlinkGroup).append(']');
            }
            if (content != null) {
                sb.append(' ').append(content.shortForm());
            }
            if (!xattrs.isEmpty()) {
                sb.append(' ').append(xattrs);
            }
            return sb.toString();
        }
    }

    /**
     * One difference between two trees: {@code attribute} of {@code path} is {@code left} in this tree
     * and {@code right} in the other ({@code "(missing)"} when the path is absent from one side).
     */
    public record Difference(String path, String attribute, String left, String right) {
        @Override
        public String toString() {
            return path + ": " + attribute + " " + left + " != " + right;
        }
    }

    private static final String MISSING = "(missing)";

    private final Path root;
    private final SortedMap<String, Entry> entries;

    private FileTree(Path root, SortedMap<String, Entry> entries) {
        this.root = root;
        this.entries = Collections.unmodifiableSortedMap(entries);
    }

    /**
     * Records the tree under {@code root} (which is included as {@code /}).
     *
     * @throws UncheckedIOException if an entry cannot be read
     */
    public static FileTree scan(Path root) {
        Objects.requireNonNull(root, "root");
        Map<String, Raw> raw = new HashMap<>();
        try {
            Files.walkFileTree(root, EnumSet.noneOf(java.nio.file.FileVisitOption.class), Integer.MAX_VALUE,
                    new SimpleFileVisitor<>() {
                        @Override
                        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
                                throws IOException {
                            raw.put(treePath(root, dir), read(dir));
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                            raw.put(treePath(root, file), read(file));
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                            throw exc;
                        }
                    });
        } catch (IOException e) {
            throw new UncheckedIOException("scanning " + root + " failed", e);
        }
        Map<String, String> groups = new HashMap<>();
        new TreeMap<>(raw).forEach((path, r) -> {
            if (r.nlink > 1 && r.type != Type.DIRECTORY) {
                groups.putIfAbsent(r.dev + ":" + r.ino, path);
            }
        });
        SortedMap<String, Entry> entries = new TreeMap<>();
        raw.forEach((path, r) -> entries.put(path, new Entry(path, r.type, r.mode, r.uid, r.gid, r.size,
                r.content, r.linkTarget,
                r.nlink > 1 && r.type != Type.DIRECTORY ? groups.get(r.dev + ":" + r.ino) : null,
                r.xattrs, r.mtime, r.major, r.minor)));
        return new FileTree(root, entries);
    }

    private record Raw(Type type, int mode, long uid, long gid, long size, Digest content, String linkTarget,
                       long dev, long ino, int nlink, SortedMap<String, String> xattrs, Instant mtime,
                       int major, int minor) {
    }

    private static String treePath(Path root, Path p) {
        String rel = root.relativize(p).toString();
        return rel.isEmpty() ? "/" : "/" + rel;
    }

    private static Raw read(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,size,ino,dev,rdev,nlink,lastModifiedTime",
                LinkOption.NOFOLLOW_LINKS);
        int st = (Integer) a.get("mode");
        Type type = switch (st & 0170000) {
            case 0100000 -> Type.REGULAR;
            case 0040000 -> Type.DIRECTORY;
            case 0120000 -> Type.SYMLINK;
            case 0020000 -> Type.CHAR_DEVICE;
            case 0060000 -> Type.BLOCK_DEVICE;
            case 0010000 -> Type.FIFO;
            case 0140000 -> Type.SOCKET;
            default -> throw new IOException("unknown file type 0" + Integer.toOctalString(st) + " of " + p);
        };
        long size = type == Type.REGULAR ? (Long) a.get("size") : 0;
        Digest content = type == Type.REGULAR ? sha256(p) : null;
        String target = type == Type.SYMLINK ? Files.readSymbolicLink(p).toString() : null;
        long rdev = (Long) a.get("rdev");
        boolean device = type == Type.CHAR_DEVICE || type == Type.BLOCK_DEVICE;
        SortedMap<String, String> xattrs = new TreeMap<>();
        for (String name : Syscalls.get().llistxattr(p.toString())) {
            byte[] value = Syscalls.get().lgetxattr(p.toString(), name);
            if (value != null) {
                xattrs.put(name, escape(value));
            }
        }
        return new Raw(type, st & 07777, ((Integer) a.get("uid")) & 0xffffffffL,
                ((Integer) a.get("gid")) & 0xffffffffL, size, content, target, (Long) a.get("dev"),
                (Long) a.get("ino"), (Integer) a.get("nlink"), xattrs,
                ((FileTime) a.get("lastModifiedTime")).toInstant(),
                device ? Syscalls.major(rdev) : 0, device ? Syscalls.minor(rdev) : 0);
    }

    private static Digest sha256(Path p) throws IOException {
        Digester d = Digester.sha256();
        byte[] buf = new byte[65536];
        try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                d.update(buf, 0, n);
            }
        }
        return d.digest();
    }

    /** Printable ASCII as is, {@code \} as {@code \\}, every other byte as {@code \xNN}. */
    public static String escape(byte[] value) {
        StringBuilder sb = new StringBuilder(value.length);
        for (byte b : value) {
            int c = b & 0xff;
            if (c == '\\') {
                sb.append("\\\\");
            } else if (c >= 0x20 && c < 0x7f) {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return sb.toString();
    }

    /** The directory that was scanned. */
    public Path root() {
        return root;
    }

    /** All entries by path, sorted. */
    public SortedMap<String, Entry> entries() {
        return entries;
    }

    /** The entry at {@code path} ({@code /} or {@code /a/b}). */
    public Optional<Entry> get(String path) {
        return Optional.ofNullable(entries.get(path));
    }

    /** This tree without the entries whose path matches. */
    public FileTree excluding(Predicate<String> paths) {
        SortedMap<String, Entry> kept = new TreeMap<>(entries);
        kept.keySet().removeIf(paths);
        return new FileTree(root, kept);
    }

    /** This tree without the root entry (whose metadata usually belongs to the test's temp dir). */
    public FileTree withoutRoot() {
        return excluding("/"::equals);
    }

    /**
     * The differences from {@code other}, path by path in sorted order; a path whose type differs is
     * reported by type only.
     */
    public List<Difference> diff(FileTree other, Attribute... ignored) {
        Set<Attribute> ignore = ignored.length == 0 ? EnumSet.noneOf(Attribute.class)
                : EnumSet.copyOf(List.of(ignored));
        Set<String> paths = new TreeSet<>(entries.keySet());
        paths.addAll(other.entries.keySet());
        List<Difference> out = new ArrayList<>();
        for (String path : paths) {
            Entry l = entries.get(path);
            Entry r = other.entries.get(path);
            if (l == null || r == null) {
                out.add(new Difference(path, "entry", l == null ? MISSING : l.type().toString(),
                        r == null ? MISSING : r.type().toString()));
            } else {
                compare(l, r, ignore, out);
            }
        }
        return List.copyOf(out);
    }

    private static void compare(Entry l, Entry r, Set<Attribute> ignore, List<Difference> out) {
        String p = l.path();
        if (l.type() != r.type()) {
            if (!ignore.contains(Attribute.TYPE)) {
                out.add(new Difference(p, "type", l.type().toString(), r.type().toString()));
            }
            return;
        }
        check(out, ignore, Attribute.MODE, p, "mode", "0" + Integer.toOctalString(l.mode()),
                "0" + Integer.toOctalString(r.mode()));
        check(out, ignore, Attribute.OWNER, p, "owner", l.uid() + ":" + l.gid(), r.uid() + ":" + r.gid());
        check(out, ignore, Attribute.SIZE, p, "size", Long.toString(l.size()), Long.toString(r.size()));
        check(out, ignore, Attribute.CONTENT, p, "content", String.valueOf(l.content()),
                String.valueOf(r.content()));
        check(out, ignore, Attribute.LINK_TARGET, p, "link target", String.valueOf(l.linkTarget()),
                String.valueOf(r.linkTarget()));
        check(out, ignore, Attribute.HARDLINK, p, "hardlink group", String.valueOf(l.hardlinkGroup()),
                String.valueOf(r.hardlinkGroup()));
        check(out, ignore, Attribute.DEVICE, p, "device", l.devMajor() + "," + l.devMinor(),
                r.devMajor() + "," + r.devMinor());
        check(out, ignore, l.type() == Type.DIRECTORY ? Attribute.DIRECTORY_MTIME : Attribute.MTIME, p, "mtime",
                l.mtime().toString(), r.mtime().toString());
        if (!ignore.contains(Attribute.XATTRS)) {
            Set<String> names = new TreeSet<>(l.xattrs().keySet());
            names.addAll(r.xattrs().keySet());
            for (String name : names) {
                String lv = l.xattrs().get(name);
                String rv = r.xattrs().get(name);
                if (!Objects.equals(lv, rv)) {
                    out.add(new Difference(p, "xattr " + name, lv == null ? MISSING : '"' + lv + '"',
                            rv == null ? MISSING : '"' + rv + '"'));
                }
            }
        }
    }

    private static void check(List<Difference> out, Set<Attribute> ignore, Attribute attribute, String path,
                              String label, String left, String right) {
        if (!ignore.contains(attribute) && !left.equals(right)) {
            out.add(new Difference(path, label, left, right));
        }
    }

    /**
     * The differences from {@code other}, one per line, headed by both roots; empty when there are
     * none (so {@code assertThat(a.diffReport(b)).isEmpty()} prints them on failure).
     */
    public String diffReport(FileTree other, Attribute... ignored) {
        List<Difference> diffs = diff(other, ignored);
        if (diffs.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        sb.append(diffs.size()).append(" difference(s) between ").append(root).append(" (left) and ")
                .append(other.root).append(" (right):\n");
        diffs.forEach(d -> sb.append("  ").append(d).append('\n'));
        return sb.toString();
    }

    static String modeString(Type type, int mode) {
        char t = switch (type) {
            case REGULAR -> '-';
            case DIRECTORY -> 'd';
            case SYMLINK -> 'l';
            case CHAR_DEVICE -> 'c';
            case BLOCK_DEVICE -> 'b';
            case FIFO -> 'p';
            case SOCKET -> 's';
        };
        StringBuilder sb = new StringBuilder().append(t);
        String rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            sb.append((mode & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
        }
        if ((mode & 04000) != 0) {
            sb.setCharAt(3, sb.charAt(3) == 'x' ? 's' : 'S');
        }
        if ((mode & 02000) != 0) {
            sb.setCharAt(6, sb.charAt(6) == 'x' ? 's' : 'S');
        }
        if ((mode & 01000) != 0) {
            sb.setCharAt(9, sb.charAt(9) == 'x' ? 't' : 'T');
        }
        return sb.toString();
    }

    /** One line per entry, {@code ls -l} style. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        entries.values().forEach(e -> sb.append(e).append('\n'));
        return sb.toString();
    }
}
