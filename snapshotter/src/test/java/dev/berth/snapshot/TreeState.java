package dev.berth.snapshot;

import dev.berth.api.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What a user sees of a file tree, entry by entry: type, permission bits, owner, and for files their
 * content hash and link count, for symlinks their target, for devices their number. Times and directory
 * sizes are left out: they legitimately differ between a mount and a plain copy.
 */
final class TreeState {
    private TreeState() {
    }

    static Map<String, String> of(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String rel = p.equals(root) ? "/" : "/" + root.relativize(p);
                out.put(rel, describe(p));
            }
        }
        return out;
    }

    static String describe(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,nlink,rdev,size", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        String owner = String.format("%04o %s:%s", mode & 07777, a.get("uid"), a.get("gid"));
        return switch (mode & 0170000) {
            case 0040000 -> "dir " + owner;
            case 0100000 -> "file " + owner + " size=" + a.get("size") + " nlink=" + a.get("nlink") + " " + sha256(p);
            case 0120000 -> "symlink " + owner + " -> " + Files.readSymbolicLink(p);
            case 0020000, 0060000 -> "dev " + owner + " rdev=" + a.get("rdev");
            default -> String.format("other(%o) %s", mode & 0170000, owner);
        };
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return new Digest(Digest.SHA256, HexFormat.of().formatHex(md.digest())).toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
