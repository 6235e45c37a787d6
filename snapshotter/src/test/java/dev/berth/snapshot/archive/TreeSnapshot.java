package dev.berth.snapshot.archive;

import dev.berth.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Everything a user can observe about a directory tree, path by path: type, mode, owner, content
 * hash, link target, device numbers, xattrs, mtime and hardlink groups (paths sharing an inode).
 */
final class TreeSnapshot {
    /** One path's observable state. {@code linkGroup} is the first path sharing the inode, for nlink &gt; 1. */
    record Node(String type, int mode, int uid, int gid, String sha256, String target, long rdev,
                Map<String, String> xattrs, long mtimeSec, long mtimeNsec, String linkGroup) {

        Node withoutMtime() {
            return new Node(type, mode, uid, gid, sha256, target, rdev, xattrs, 0, 0, linkGroup);
        }

        @Override
        public String toString() {
            return type + " " + Integer.toOctalString(mode) + " " + uid + ":" + gid
                    + (sha256 != null ? " sha=" + sha256.substring(0, 12) : "")
                    + (target != null ? " -> " + target : "")
                    + (rdev != 0 ? " rdev=" + rdev : "")
                    + (xattrs.isEmpty() ? "" : " xattrs=" + xattrs)
                    + " mtime=" + mtimeSec + "." + mtimeNsec
                    + (linkGroup != null ? " group=" + linkGroup : "");
        }
    }

    private TreeSnapshot() {
    }

    /** The state of every path below {@code root} (relative paths; the root itself is ""). */
    static TreeMap<String, Node> of(Path root) {
        TreeMap<String, Node> nodes = new TreeMap<>();
        Map<Long, String> inodes = new TreeMap<>();
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted().forEach(paths::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            for (Path p : paths) {
                String rel = root.relativize(p).toString();
                Map<String, Object> a = Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
                int mode = (Integer) a.get("mode");
                int fmt = mode & Syscalls.S_IFMT;
                String type = switch (fmt) {
                    case Syscalls.S_IFDIR -> "dir";
                    case Syscalls.S_IFREG -> "file";
                    case Syscalls.S_IFLNK -> "symlink";
                    case Syscalls.S_IFCHR -> "char";
                    case Syscalls.S_IFBLK -> "block";
                    case Syscalls.S_IFIFO -> "fifo";
                    default -> "other";
                };
                String sha = fmt == Syscalls.S_IFREG ? sha256(p) : null;
                String target = fmt == Syscalls.S_IFLNK ? Files.readSymbolicLink(p).toString() : null;
                long rdev = (fmt == Syscalls.S_IFCHR || fmt == Syscalls.S_IFBLK) ? (Long) a.get("rdev") : 0;
                Map<String, String> xattrs = new TreeMap<>();
                String sp = p.toString();
                for (String x : Syscalls.get().llistxattr(sp)) {
                    byte[] v = Syscalls.get().lgetxattr(sp, x);
                    xattrs.put(x, v == null ? "" : HexFormat.of().formatHex(v));
                }
                FileTime mt = (FileTime) a.get("lastModifiedTime");
                long nanos = mt.to(java.util.concurrent.TimeUnit.NANOSECONDS);
                long sec = Math.floorDiv(nanos, 1_000_000_000L);
                long nsec = Math.floorMod(nanos, 1_000_000_000L);
                String group = null;
                int nlink = (Integer) a.get("nlink");
                if (fmt != Syscalls.S_IFDIR && nlink > 1) {
                    long ino = (Long) a.get("ino");
                    group = inodes.computeIfAbsent(ino, k -> rel);
                }
                nodes.put(rel, new Node(type, mode & 07777, (Integer) a.get("uid"), (Integer) a.get("gid"), sha, target,
                        rdev, xattrs, sec, nsec, group));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // a group of one (other links outside the tree or in another layer) is not a group here
        Map<String, Integer> sizes = new TreeMap<>();
        nodes.values().forEach(n -> {
            if (n.linkGroup() != null) {
                sizes.merge(n.linkGroup(), 1, Integer::sum);
            }
        });
        nodes.replaceAll((k, n) -> n.linkGroup() != null && sizes.get(n.linkGroup()) < 2
                ? new Node(n.type(), n.mode(), n.uid(), n.gid(), n.sha256(), n.target(), n.rdev(), n.xattrs(),
                        n.mtimeSec(), n.mtimeNsec(), null)
                : n);
        return nodes;
    }

    /** The snapshot with directory mtimes zeroed (they change whenever a child is created or removed). */
    static TreeMap<String, Node> withoutDirectoryMtimes(Map<String, Node> tree) {
        TreeMap<String, Node> t = new TreeMap<>();
        tree.forEach((k, n) -> t.put(k, n.type().equals("dir") ? n.withoutMtime() : n));
        return t;
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[65536];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
