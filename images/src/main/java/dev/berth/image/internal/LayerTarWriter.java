package dev.berth.image.internal;

import dev.berth.api.InvalidArgumentException;
import dev.berth.image.LayerContent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.FileTime;
import java.util.Date;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Writes a {@link LayerContent} as an OCI layer tar: entries sorted by path, parents first, with
 * PAX headers for long names and large values. Later items for the same path replace earlier ones.
 */
public final class LayerTarWriter {
    private LayerTarWriter() {
    }

    private sealed interface Node permits Dir, Regular, HostFile, Link, Whiteout {
    }

    private record Dir(int mode, FileTime mtime) implements Node {
    }

    private record Regular(byte[] content, int mode) implements Node {
    }

    private record HostFile(Path file, long size, int mode, FileTime mtime) implements Node {
    }

    private record Link(String target, FileTime mtime) implements Node {
    }

    private record Whiteout() implements Node {
    }

    public static void write(LayerContent layer, OutputStream out) throws IOException {
        TreeMap<String, Node> nodes = new TreeMap<>(LayerTarWriter::comparePaths);
        for (LayerContent.Item item : layer.items()) {
            add(layer, nodes, item);
        }
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out, 1 << 16);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.setAddPaxHeadersForNonAsciiNames(true);
        byte[] buffer = new byte[1 << 16];
        for (Map.Entry<String, Node> e : nodes.entrySet()) {
            String path = e.getKey().substring(1);
            Node node = e.getValue();
            TarArchiveEntry entry;
            if (node instanceof Dir d) {
                entry = new TarArchiveEntry(path + "/", TarConstants.LF_DIR);
                entry.setMode(040000 | d.mode);
                entry.setModTime(time(layer, d.mtime));
            } else if (node instanceof Regular r) {
                entry = new TarArchiveEntry(path, TarConstants.LF_NORMAL);
                entry.setMode(0100000 | r.mode);
                entry.setSize(r.content.length);
                entry.setModTime(Date.from(layer.mtime()));
            } else if (node instanceof HostFile h) {
                entry = new TarArchiveEntry(path, TarConstants.LF_NORMAL);
                entry.setMode(0100000 | h.mode);
                entry.setSize(h.size);
                entry.setModTime(time(layer, h.mtime));
            } else if (node instanceof Link l) {
                entry = new TarArchiveEntry(path, TarConstants.LF_SYMLINK);
                entry.setMode(0120777);
                entry.setLinkName(l.target);
                entry.setModTime(time(layer, l.mtime));
            } else {
                int slash = path.lastIndexOf('/');
                String whiteout = path.substring(0, slash + 1) + ".wh." + path.substring(slash + 1);
                entry = new TarArchiveEntry(whiteout, TarConstants.LF_NORMAL);
                entry.setMode(0100000);
                entry.setModTime(Date.from(layer.mtime()));
            }
            entry.setUserId(layer.uid());
            entry.setGroupId(layer.gid());
            entry.setUserName("");
            entry.setGroupName("");
            tar.putArchiveEntry(entry);
            if (node instanceof Regular r) {
                tar.write(r.content);
            } else if (node instanceof HostFile h) {
                try (InputStream in = Files.newInputStream(h.file)) {
                    long left = h.size;
                    while (left > 0) {
                        int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                        if (n < 0) {
                            throw new IOException("layer source " + h.file + " shrank while it was being read");
                        }
                        tar.write(buffer, 0, n);
                        left -= n;
                    }
                }
            }
            tar.closeArchiveEntry();
        }
        tar.finish();
        tar.flush();
    }

    private static Date time(LayerContent layer, FileTime own) {
        return layer.keepFileTimes() && own != null ? new Date(own.toMillis()) : Date.from(layer.mtime());
    }

    /** Orders paths so that a directory comes right before its children ({@code /a}, {@code /a/b}, {@code /a.b}). */
    private static int comparePaths(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char x = a.charAt(i);
            char y = b.charAt(i);
            if (x != y) {
                if (x == '/') {
                    return -1;
                }
                if (y == '/') {
                    return 1;
                }
                return Character.compare(x, y);
            }
        }
        return Integer.compare(a.length(), b.length());
    }

    private static void add(LayerContent layer, TreeMap<String, Node> nodes, LayerContent.Item item) throws IOException {
        String path = item.path();
        if (item instanceof LayerContent.CopyItem c) {
            copy(nodes, c.source(), path);
            return;
        }
        if (path.equals("/")) {
            if (item instanceof LayerContent.DirItem d) {
                return; // the root itself is not an entry
            }
            throw new InvalidArgumentException("layer item at / must be a directory");
        }
        addParents(nodes, path);
        Node node;
        if (item instanceof LayerContent.FileItem f) {
            node = new Regular(f.content(), f.mode());
        } else if (item instanceof LayerContent.DirItem d) {
            node = new Dir(d.mode(), null);
        } else if (item instanceof LayerContent.SymlinkItem s) {
            node = new Link(s.target(), null);
        } else {
            node = new Whiteout();
            nodes.keySet().removeIf(k -> k.startsWith(path + "/"));
        }
        nodes.put(path, node);
    }

    private static void addParents(TreeMap<String, Node> nodes, String path) {
        int slash = path.indexOf('/', 1);
        while (slash > 0) {
            String parent = path.substring(0, slash);
            Node existing = nodes.get(parent);
            if (!(existing instanceof Dir)) {
                nodes.put(parent, new Dir(0755, null));
            }
            slash = path.indexOf('/', slash + 1);
        }
    }

    private static void copy(TreeMap<String, Node> nodes, Path source, String target) throws IOException {
        if (!target.equals("/")) {
            addParents(nodes, target);
        }
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                String p = join(target, source.relativize(dir));
                if (!p.equals("/")) {
                    nodes.put(p, new Dir(mode(dir), attrs.lastModifiedTime()));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String p = join(target, source.relativize(file));
                if (attrs.isSymbolicLink()) {
                    nodes.put(p, new Link(Files.readSymbolicLink(file).toString(), attrs.lastModifiedTime()));
                } else if (attrs.isRegularFile()) {
                    nodes.put(p, new HostFile(file, attrs.size(), mode(file), attrs.lastModifiedTime()));
                } else if (p.equals(target) && attrs.isDirectory()) {
                    nodes.put(p, new Dir(mode(file), attrs.lastModifiedTime()));
                }
                // sockets, fifos and devices are not copied
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static String join(String target, Path relative) {
        String rel = relative.toString();
        if (rel.isEmpty()) {
            return target;
        }
        return (target.equals("/") ? "" : target) + "/" + rel;
    }

    private static int mode(Path p) throws IOException {
        PosixFileAttributes attrs = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        Object unixMode = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if (unixMode instanceof Integer m) {
            return m & 07777;
        }
        Set<PosixFilePermission> perms = attrs.permissions();
        int mode = 0;
        for (PosixFilePermission perm : perms) {
            mode |= 1 << (8 - perm.ordinal());
        }
        return mode;
    }
}
