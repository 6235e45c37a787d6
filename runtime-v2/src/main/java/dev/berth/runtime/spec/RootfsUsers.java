package dev.berth.runtime.spec;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.oci.runtime.User;
import dev.berth.sys.Errno;
import dev.berth.sys.ErrnoException;
import dev.berth.sys.Stat;
import dev.berth.sys.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Resolves a user as an image's {@code User} field writes it ({@code uid}, {@code uid:gid}, {@code name},
 * {@code name:group}, {@code uid:group}, {@code name:gid}) against the {@code /etc/passwd} and
 * {@code /etc/group} of a container's root filesystem, with containerd 1.6's rules:
 * <ul>
 *   <li>a bare uid takes its primary gid from {@code /etc/passwd}, or 0 when the uid is not listed there;
 *   <li>a name, user or group, must exist, else an {@link InvalidArgumentException} names it and the file;
 *   <li>supplementary gids are the primary gid, then the groups in {@code /etc/group} listing the user's name
 *       as a member (except a group named like the user), when the user has a name. The primary gid is among
 *       them so that a process that changes its gid keeps that group's restrictions (as containerd since
 *       1.6.18, CVE-2023-25173).
 * </ul>
 * Files are looked up inside the rootfs the way a chroot would: symlinks in the image (absolute or
 * relative) cannot lead outside it. Stateless and thread-safe.
 */
public final class RootfsUsers {
    private static final long MAX_ID = 0xFFFF_FFFFL;
    private static final int MAX_SYMLINKS = 255;
    /** The largest {@code /etc/passwd} or {@code /etc/group} read: 1 MiB. */
    public static final int MAX_FILE_BYTES = 1 << 20;
    private static final String PASSWD = "/etc/passwd";
    private static final String GROUP = "/etc/group";

    private RootfsUsers() {
    }

    /**
     * The OCI user for {@code user}.
     *
     * @param rootfs the container's root filesystem on the host; may be null when {@code user} is numeric
     *     ({@code uid:gid}), and then a bare uid gets gid 0 and no supplementary groups
     * @param user an image-style user string; empty means root
     * @throws InvalidArgumentException if the string is malformed, an id is out of the 32-bit range, or a
     *     named user or group is not in the rootfs
     */
    public static User resolve(Path rootfs, String user) {
        return resolveWith(rootfs == null ? null : UserFiles.read(rootfs), user);
    }

    /**
     * The {@code /etc/passwd} and {@code /etc/group} of a root filesystem, read once: a committed image
     * snapshot never changes, so one read serves every container made from it.
     *
     * @param origin names the rootfs in error messages
     * @param passwd the lines of {@code /etc/passwd}, empty if the file is missing
     * @param group the lines of {@code /etc/group}, empty if the file is missing
     */
    public record UserFiles(String origin, Optional<List<String>> passwd, Optional<List<String>> group) {
        public UserFiles {
            java.util.Objects.requireNonNull(origin, "origin");
            passwd = passwd.map(List::copyOf);
            group = group.map(List::copyOf);
        }

        /** Reads both files inside {@code rootfs}, resolving symlinks as a chroot would. */
        public static UserFiles read(Path rootfs) {
            return new UserFiles(rootfs.toString(), lines(rootfs, PASSWD), lines(rootfs, GROUP));
        }

        private static Optional<List<String>> lines(Path rootfs, String path) {
            byte[] bytes;
            try {
                // the image's file, read by this host process: never resolved out of the rootfs, never a FIFO
                // or device that would block or never end, and bounded
                bytes = readRegularFile(rootfs, path, MAX_FILE_BYTES);
            } catch (NoSuchFileException e) {
                return Optional.empty();
            } catch (IOException e) {
                throw IoFailureException.of("reading " + path + " in rootfs " + rootfs, e);
            }
            return Optional.of(new String(bytes, StandardCharsets.UTF_8).lines().toList());
        }
    }

    /** {@link #resolve(Path, String)} against files read before; {@code files} may be null like the rootfs. */
    public static User resolveWith(UserFiles rootfs, String user) {
        String spec = user == null ? "" : user.trim();
        if (spec.isEmpty()) {
            spec = "0";
        }
        String[] parts = spec.split(":", -1);
        if (parts.length > 2 || parts[0].isEmpty() || (parts.length == 2 && parts[1].isEmpty())) {
            throw new InvalidArgumentException("user \"" + user
                    + "\" is not one of uid, uid:gid, name, name:group, uid:group, name:gid");
        }
        Long uidNumber = number("user", user, parts[0]);
        Long gidNumber = parts.length == 2 ? number("user", user, parts[1]) : null;

        long uid;
        long gid;
        String username;
        if (uidNumber != null) {
            uid = uidNumber;
            Optional<PasswdEntry> entry = rootfs == null ? Optional.empty()
                    : readPasswd(rootfs, false).stream().filter(e -> e.uid == uidNumber).findFirst();
            gid = entry.map(e -> e.gid).orElse(0L);
            username = entry.map(e -> e.name).orElse(null);
        } else {
            String name = parts[0];
            PasswdEntry entry = readPasswd(requireRootfs(rootfs, "user", name), true).stream()
                    .filter(e -> e.name.equals(name)).findFirst()
                    .orElseThrow(() -> new InvalidArgumentException("user \"" + name + "\" not found in "
                            + PASSWD + " of rootfs " + rootfs.origin()));
            uid = entry.uid;
            gid = entry.gid;
            username = name;
        }
        if (parts.length == 2) {
            gid = gidNumber != null ? gidNumber : groupId(rootfs, parts[1]);
        }
        Set<Long> additional = new LinkedHashSet<>();
        additional.add(gid);
        if (username != null && rootfs != null) {
            additional.addAll(memberGids(rootfs, username));
        }
        return new User(uid, gid, null, List.copyOf(additional), null);
    }

    /**
     * The gids of {@code groups}, each a gid or a group name looked up in the rootfs' {@code /etc/group}.
     *
     * @throws InvalidArgumentException if a name is not found or a gid is out of range
     */
    public static List<Long> groupIds(Path rootfs, List<String> groups) {
        return groupIdsWith(rootfs == null ? null : UserFiles.read(rootfs), groups);
    }

    /** {@link #groupIds(Path, List)} against files read before. */
    public static List<Long> groupIdsWith(UserFiles rootfs, List<String> groups) {
        List<Long> gids = new ArrayList<>();
        for (String group : groups) {
            Long gid = number("group", group, group);
            gids.add(gid != null ? gid : groupId(rootfs, group));
        }
        return gids;
    }

    private static long groupId(UserFiles rootfs, String name) {
        return readGroups(requireRootfs(rootfs, "group", name), true).stream()
                .filter(g -> g.name.equals(name)).findFirst()
                .map(g -> g.gid)
                .orElseThrow(() -> new InvalidArgumentException("group \"" + name + "\" not found in " + GROUP
                        + " of rootfs " + rootfs.origin()));
    }

    private static List<Long> memberGids(UserFiles rootfs, String username) {
        Set<Long> gids = new LinkedHashSet<>();
        for (GroupEntry g : readGroups(rootfs, false)) {
            if (!g.name.equals(username) && g.members.contains(username)) {
                gids.add(g.gid);
            }
        }
        return List.copyOf(gids);
    }

    private static UserFiles requireRootfs(UserFiles rootfs, String what, String name) {
        if (rootfs == null) {
            throw new InvalidArgumentException(what + " \"" + name
                    + "\" is a name, which needs the rootfs to look it up; give a rootfs or a numeric id");
        }
        return rootfs;
    }

    /** The id if {@code token} is all digits, null if it is a name. */
    private static Long number(String what, String whole, String token) {
        if (!token.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
            return null;
        }
        long value;
        try {
            value = Long.parseLong(token);
        } catch (NumberFormatException e) {
            value = Long.MAX_VALUE;
        }
        if (value > MAX_ID) {
            throw new InvalidArgumentException(what + " \"" + whole + "\": id " + token
                    + " is out of range (0.." + MAX_ID + ")");
        }
        return value;
    }

    private record PasswdEntry(String name, long uid, long gid) {
    }

    private record GroupEntry(String name, long gid, List<String> members) {
    }

    private static List<PasswdEntry> readPasswd(UserFiles rootfs, boolean required) {
        List<PasswdEntry> entries = new ArrayList<>();
        for (String[] f : readColonFile(rootfs, PASSWD, required)) {
            if (f.length >= 4) {
                Long uid = parseId(f[2]);
                Long gid = parseId(f[3]);
                if (uid != null && gid != null) {
                    entries.add(new PasswdEntry(f[0], uid, gid));
                }
            }
        }
        return entries;
    }

    private static List<GroupEntry> readGroups(UserFiles rootfs, boolean required) {
        List<GroupEntry> entries = new ArrayList<>();
        for (String[] f : readColonFile(rootfs, GROUP, required)) {
            if (f.length >= 3) {
                Long gid = parseId(f[2]);
                if (gid != null) {
                    List<String> members = f.length >= 4 && !f[3].isBlank()
                            ? Arrays.stream(f[3].split(",")).map(String::trim).filter(Predicate.not(String::isEmpty))
                                    .toList()
                            : List.of();
                    entries.add(new GroupEntry(f[0], gid, members));
                }
            }
        }
        return entries;
    }

    // Like libc, malformed lines are skipped rather than failing the whole lookup.
    private static Long parseId(String s) {
        try {
            long v = Long.parseLong(s.trim());
            return v >= 0 && v <= MAX_ID ? v : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static List<String[]> readColonFile(UserFiles rootfs, String path, boolean required) {
        Optional<List<String>> content = path.equals(PASSWD) ? rootfs.passwd() : rootfs.group();
        if (content.isEmpty()) {
            if (required) {
                throw new InvalidArgumentException(path + " not found in rootfs " + rootfs.origin());
            }
            return List.of();
        }
        List<String> lines = content.get();
        List<String[]> rows = new ArrayList<>();
        for (String line : lines) {
            String trimmed = line.trim();
            if (!trimmed.isEmpty() && !trimmed.startsWith("#")) {
                rows.add(trimmed.split(":", -1));
            }
        }
        return rows;
    }

    /**
     * {@code path} inside {@code root} with every symlink resolved as if {@code root} were {@code /}: an
     * absolute link restarts at the root, {@code ..} stops at it.
     */
    static Path resolveInRoot(Path root, String path) throws IOException {
        Deque<String> pending = new ArrayDeque<>();
        pushComponents(pending, path);
        List<String> resolved = new ArrayList<>();
        int links = 0;
        while (!pending.isEmpty()) {
            String part = pending.pop();
            if (part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (!resolved.isEmpty()) {
                    resolved.remove(resolved.size() - 1);
                }
                continue;
            }
            Path candidate = join(root, resolved).resolve(part);
            if (Files.isSymbolicLink(candidate)) {
                if (++links > MAX_SYMLINKS) {
                    throw new IOException("too many symlinks resolving " + path + " in " + root);
                }
                String target = Files.readSymbolicLink(candidate).toString();
                if (target.startsWith("/")) {
                    resolved.clear();
                }
                pushComponents(pending, target);
            } else {
                resolved.add(part);
            }
        }
        Path result = join(root, resolved);
        if (!Files.exists(result, LinkOption.NOFOLLOW_LINKS)) {
            throw new NoSuchFileException(result.toString());
        }
        return result;
    }

    /**
     * The bytes of the regular file {@code path} inside {@code rootfs}: symlinks resolved as a chroot would
     * (openat2's RESOLVE_IN_ROOT, or {@link #resolveInRoot} and an O_NOFOLLOW open where the kernel lacks it),
     * opened without blocking (a FIFO there is refused, not waited on), at most {@code maxBytes}.
     */
    static byte[] readRegularFile(Path rootfs, String path, int maxBytes) throws IOException {
        Syscalls sys = Syscalls.get();
        int flags = Syscalls.O_RDONLY | Syscalls.O_NONBLOCK | Syscalls.O_CLOEXEC;
        int fd = -1;
        try {
            if (sys.hasOpenat2()) {
                int root = sys.openat(Syscalls.AT_FDCWD, rootfs.toString(), Syscalls.O_PATH | Syscalls.O_DIRECTORY, 0);
                try {
                    fd = sys.openat2(root, path.replaceFirst("^/+", ""), flags,
                            Syscalls.RESOLVE_IN_ROOT | Syscalls.RESOLVE_NO_MAGICLINKS);
                } catch (ErrnoException e) {
                    if (!e.is(Errno.ENOSYS)) {
                        throw e;
                    }
                } finally {
                    sys.close(root);
                }
            }
            if (fd < 0) {
                fd = sys.openat(Syscalls.AT_FDCWD, resolveInRoot(rootfs, path).toString(), flags | Syscalls.O_NOFOLLOW, 0);
            }
        } catch (ErrnoException e) {
            if (e.is(Errno.ENOENT)) {
                throw new NoSuchFileException(rootfs + path);
            }
            throw e;
        }
        try {
            // fstat: the file opened, whatever the name points at now
            Stat st = sys.fstat(fd, path);
            if (!st.isRegular()) {
                throw new InvalidArgumentException(path + " in rootfs " + rootfs + " is not a regular file");
            }
            if (st.size() > maxBytes) {
                throw new InvalidArgumentException(path + " in rootfs " + rootfs + " is " + st.size()
                        + " bytes, more than the limit of " + maxBytes);
            }
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream((int) st.size());
            byte[] buf = new byte[8192];
            while (true) {
                long n = sys.read(fd, buf);
                if (n < 0) {
                    throw new ErrnoException("read", path, (int) -n);
                }
                if (n == 0) {
                    return out.toByteArray();
                }
                if (out.size() + n > maxBytes) {
                    throw new InvalidArgumentException(path + " in rootfs " + rootfs + " grew past the limit of "
                            + maxBytes + " bytes while read");
                }
                out.write(buf, 0, (int) n);
            }
        } finally {
            sys.close(fd);
        }
    }

    private static void pushComponents(Deque<String> pending, String path) {
        String[] parts = path.split("/");
        for (int i = parts.length - 1; i >= 0; i--) {
            if (!parts[i].isEmpty()) {
                pending.push(parts[i]);
            }
        }
    }

    private static Path join(Path root, List<String> parts) {
        Path p = root;
        for (String part : parts) {
            p = p.resolve(part);
        }
        return p;
    }
}
