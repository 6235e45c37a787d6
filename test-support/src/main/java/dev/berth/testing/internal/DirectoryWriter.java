package dev.berth.testing.internal;

import dev.berth.sys.Syscalls;
import dev.berth.testing.TarEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes well-formed entries (relative names; dirs, files, symlinks, hardlinks) into a directory with
 * their mode, owner and mtime, so the tree matches what unpacking the same entries as a layer gives.
 * Not a layer applier: no whiteouts, no path-escape checks, no devices.
 */
public final class DirectoryWriter {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    private DirectoryWriter() {
    }

    public static void write(List<TarEntry> entries, Path root) throws IOException {
        Files.createDirectories(root);
        List<TarEntry> dirs = new ArrayList<>();
        for (TarEntry e : entries) {
            Path target = resolve(root, e.name());
            switch (e.typeFlag()) {
                case TarEntry.DIRECTORY -> {
                    if (!Files.isDirectory(target, NOFOLLOW)) {
                        Files.deleteIfExists(target);
                        Files.createDirectories(target);
                    }
                    dirs.add(e);
                }
                case TarEntry.REGULAR -> {
                    Files.deleteIfExists(target);
                    Files.write(target, e.content());
                }
                case TarEntry.SYMLINK -> {
                    Files.deleteIfExists(target);
                    Files.createSymbolicLink(target, Path.of(e.linkName()));
                }
                case TarEntry.HARDLINK -> {
                    Files.deleteIfExists(target);
                    Files.createLink(target, resolve(root, e.linkName()));
                }
                default -> throw new IOException("cannot write " + e + " into a directory");
            }
            if (e.typeFlag() != TarEntry.HARDLINK) {
                setMetadata(target, e);
            }
        }
        // Creating children changes a directory's mtime, so directory times go last.
        for (TarEntry d : dirs) {
            Path target = resolve(root, d.name());
            Syscalls.get().setTimes(target, d.mtime(), d.mtime());
        }
    }

    private static void setMetadata(Path target, TarEntry e) throws IOException {
        Files.setAttribute(target, "unix:uid", (int) e.uid(), NOFOLLOW);
        Files.setAttribute(target, "unix:gid", (int) e.gid(), NOFOLLOW);
        if (e.typeFlag() != TarEntry.SYMLINK) {
            // After chown, which clears setuid/setgid.
            Files.setAttribute(target, "unix:mode", e.mode() & 07777, NOFOLLOW);
        }
        for (var x : e.xattrs().entrySet()) {
            Syscalls.get().setXattr(target, x.getKey(), x.getValue());
        }
        Syscalls.get().setTimes(target, e.mtime(), e.mtime());
    }

    private static Path resolve(Path root, String name) throws IOException {
        String n = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
        if (n.isEmpty() || n.startsWith("/") || n.equals("..") || n.startsWith("../") || n.contains("/../")
                || n.endsWith("/..")) {
            throw new IOException("refusing to write entry \"" + name + "\" outside " + root);
        }
        return root.resolve(n);
    }
}
