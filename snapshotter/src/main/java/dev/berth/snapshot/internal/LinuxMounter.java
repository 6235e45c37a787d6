package dev.berth.snapshot.internal;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Mount;
import dev.berth.api.NotImplementedException;
import dev.berth.snapshot.mount.MountException;
import dev.berth.sys.Errno;
import dev.berth.sys.ErrnoException;
import dev.berth.sys.MountInfo;
import dev.berth.sys.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Performs {@link Mount}s with mount(2), or the new mount API when the option data would not fit. */
public final class LinuxMounter {
    /** mount(2) copies at most one page of option data, including the terminating NUL. */
    static final int MAX_DATA = 4096 - 1;

    private static final long FSCONFIG_SET_FLAG = 0;
    private static final long FSCONFIG_SET_STRING = 1;
    private static final long FSCONFIG_CMD_CREATE = 6;
    private static final long MOUNT_ATTR_RDONLY = 0x1;
    private static final long MOUNT_ATTR_NOSUID = 0x2;
    private static final long MOUNT_ATTR_NODEV = 0x4;
    private static final long MOUNT_ATTR_NOEXEC = 0x8;
    private static final long MOUNT_ATTR_NOATIME = 0x10;
    private static final long MOUNT_ATTR_STRICTATIME = 0x20;
    private static final long MOUNT_ATTR_NODIRATIME = 0x80;
    private static final long MOUNT_ATTR_NOSYMFOLLOW = 0x200000;

    private static final Syscalls SYS = Syscalls.get();
    private static final int BUSY_RETRIES = 10;

    private LinuxMounter() {
    }

    /** Where {@code m} lands when a mount list is applied at {@code root}: its target, confined to root. */
    public static Path targetOf(Mount m, Path root) {
        if (m.target().isEmpty()) {
            return root;
        }
        Path resolved = root.resolve(m.target().replaceFirst("^/+", "")).normalize();
        if (!resolved.startsWith(root.normalize())) {
            throw new InvalidArgumentException("mount target \"" + m.target() + "\" escapes " + root);
        }
        return resolved;
    }

    /**
     * Performs {@code m} at {@code target}.
     *
     * @return whether a new mount was made there (false for remounts and propagation changes, which
     *         leave nothing to unmount)
     */
    public static boolean mount(Mount m, Path target) {
        MountOptions opts = MountOptions.parse(m.options());
        if (opts.loop()) {
            throw new NotImplementedException("loop mounts are not supported (source " + m.source() + ")");
        }
        String type = m.type();
        long flags = opts.flags();
        if ((type.equals("bind") || type.equals("rbind")) && (flags & MountOptions.MS_BIND) == 0) {
            flags |= MountOptions.MS_BIND | (type.equals("rbind") ? MountOptions.MS_REC : 0);
        }
        String data = opts.dataString();
        String t = target.toString();
        boolean newMount = (flags & MountOptions.MS_REMOUNT) == 0;
        // Only a propagation change asked for ("rprivate", "remount,rshared"): no mount call of its own.
        boolean propagationOnly = opts.propagation() != 0 && data.isEmpty()
                && (flags & ~MountOptions.MS_REMOUNT) == 0;
        if (propagationOnly) {
            newMount = false;
        } else if (data.length() > MAX_DATA - 512 && (flags & (MountOptions.MS_BIND | MountOptions.MS_REMOUNT)) == 0) {
            mountWithFsContext(type, m.source(), opts, t);
        } else {
            if (data.length() > MAX_DATA) {
                throw new InvalidArgumentException("mount options of " + type + " at " + t + " are "
                        + data.length() + " bytes; mount(2) takes at most " + MAX_DATA);
            }
            mount(m.source(), t, type, flags, data.isEmpty() ? null : data);
        }
        try {
            if (opts.propagation() != 0) {
                mount("", t, "", opts.propagation(), null);
            }
            boolean bindReadOnly = (flags & (MountOptions.MS_BIND | MountOptions.MS_RDONLY))
                    == (MountOptions.MS_BIND | MountOptions.MS_RDONLY);
            if (bindReadOnly && (flags & MountOptions.MS_REMOUNT) == 0) {
                // Linux ignores MS_RDONLY on the initial bind; only a remount makes it read-only.
                mount("", t, "", flags | MountOptions.MS_REMOUNT, null);
            }
        } catch (MountException e) {
            if (newMount) {
                SYS.tryUmount2(t, Syscalls.MNT_DETACH);
            }
            throw e;
        }
        return newMount;
    }

    /**
     * fsopen/fsconfig/fsmount/move_mount: no page limit, since each lower dir is passed on its own as
     * {@code lowerdir+} (Linux 6.8+).
     */
    private static void mountWithFsContext(String type, String source, MountOptions opts, String target) {
        int fsfd = SYS.fsopen(type);
        if (fsfd < 0) {
            throw error("fsopen", -fsfd, source, target, type, null);
        }
        try {
            if (!source.isEmpty()) {
                fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, type, source, target);
            }
            for (String o : opts.data()) {
                int eq = o.indexOf('=');
                if (eq < 0) {
                    fsconfig(fsfd, FSCONFIG_SET_FLAG, o, null, type, source, target);
                    continue;
                }
                String key = o.substring(0, eq);
                String value = o.substring(eq + 1);
                if (key.equals("lowerdir")) {
                    for (String dir : splitLowerdirs(value)) {
                        fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", dir, type, source, target);
                    }
                } else {
                    fsconfig(fsfd, FSCONFIG_SET_STRING, key, value, type, source, target);
                }
            }
            if (opts.readOnly()) {
                fsconfig(fsfd, FSCONFIG_SET_FLAG, "ro", null, type, source, target);
            }
            fsconfig(fsfd, FSCONFIG_CMD_CREATE, null, null, type, source, target);
            int mfd = SYS.fsmount(fsfd, attrFlags(opts));
            if (mfd < 0) {
                throw error("fsmount", -mfd, source, target, type, kernelLog(fsfd));
            }
            try {
                int rc = SYS.moveMount(mfd, target);
                if (rc < 0) {
                    throw error("move_mount", -rc, source, target, type, null);
                }
            } finally {
                SYS.close(mfd);
            }
        } finally {
            SYS.close(fsfd);
        }
    }

    private static void fsconfig(int fd, long cmd, String key, String value, String type, String source,
                                 String target) {
        int rc = SYS.fsconfig(fd, cmd, key, value);
        if (rc < 0) {
            int errno = -rc;
            String what = key == null ? "create" : key + (value == null ? "" : "=" + value);
            String log = kernelLog(fd);
            throw error("fsconfig(" + what + ")", errno, source, target, type, log);
        }
    }

    /** Messages the kernel queued on a file-system context ("e overlay: ..."), joined. */
    private static String kernelLog(int fd) {
        StringBuilder sb = new StringBuilder();
        byte[] buf = new byte[1024];
        for (int i = 0; i < 16; i++) {
            long n = SYS.read(fd, buf);
            if (n <= 0) {
                break;
            }
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append(new String(buf, 0, (int) n, StandardCharsets.UTF_8).strip());
        }
        return sb.toString();
    }

    private static long attrFlags(MountOptions o) {
        long a = 0;
        if (o.has(MountOptions.MS_RDONLY)) {
            a |= MOUNT_ATTR_RDONLY;
        }
        if (o.has(MountOptions.MS_NOSUID)) {
            a |= MOUNT_ATTR_NOSUID;
        }
        if (o.has(MountOptions.MS_NODEV)) {
            a |= MOUNT_ATTR_NODEV;
        }
        if (o.has(MountOptions.MS_NOEXEC)) {
            a |= MOUNT_ATTR_NOEXEC;
        }
        if (o.has(MountOptions.MS_NOATIME)) {
            a |= MOUNT_ATTR_NOATIME;
        } else if (o.has(MountOptions.MS_STRICTATIME)) {
            a |= MOUNT_ATTR_STRICTATIME;
        }
        if (o.has(MountOptions.MS_NODIRATIME)) {
            a |= MOUNT_ATTR_NODIRATIME;
        }
        if (o.has(MountOptions.MS_NOSYMFOLLOW)) {
            a |= MOUNT_ATTR_NOSYMFOLLOW;
        }
        return a;
    }

    /** Splits overlay's colon-separated lowerdir list; {@code \:} escapes a colon inside a path. */
    static List<String> splitLowerdirs(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (ch == '\\' && i + 1 < value.length()) {
                cur.append(value.charAt(++i));
            } else if (ch == ':') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(ch);
            }
        }
        out.add(cur.toString());
        return out;
    }

    /**
     * Unmounts {@code target}, retrying while it is busy and finally detaching it lazily.
     *
     * @return false if nothing was mounted there (EINVAL) or it does not exist
     */
    public static boolean unmount(Path target) {
        String t = target.toString();
        for (int attempt = 0; ; attempt++) {
            int rc = SYS.tryUmount2(t, 0);
            if (rc == 0) {
                return true;
            }
            int errno = -rc;
            if (errno == Errno.EINVAL || errno == Errno.ENOENT) {
                return false;
            }
            if (errno != Errno.EBUSY) {
                throw error("umount2", errno, "", t, "", null);
            }
            if (attempt >= BUSY_RETRIES) {
                return detach(t);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return detach(t);
            }
        }
    }

    /** Unmounts every mount stacked on {@code target}. @return how many were unmounted */
    public static int unmountAll(Path target) {
        int n = 0;
        while (unmount(target)) {
            n++;
        }
        return n;
    }

    /**
     * Mount points of overlays whose lower, upper or work directory is {@code dir} or lies below it: such a
     * directory is in use even though nothing is mounted on it, and deleting it would pull files out from
     * under the overlay.
     */
    public static List<Path> overlaysUsing(Path dir) {
        String base = dir.toAbsolutePath().normalize().toString();
        List<Path> out = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        // overlay options escape more than the mount point does (also ',', '=' and ':' in layer names)
        boolean prefilter = dev.berth.sys.MountInfo.PREFILTER
                && dev.berth.sys.MountInfo.survivesEscaping(base, ",=: \t\n\\");
        for (String line : lines) {
            if (prefilter && !line.contains(base)) {
                continue; // cannot name base or anything below it
            }
            int sep = line.indexOf(" - ");
            String[] f = line.split(" ");
            if (sep < 0 || f.length <= 4) {
                continue;
            }
            String[] tail = line.substring(sep + 3).split(" ");
            if (tail.length < 3 || !tail[0].equals("overlay")) {
                continue;
            }
            for (String option : unescapeOctal(tail[2]).split(",")) {
                int eq = option.indexOf('=');
                String key = eq < 0 ? option : option.substring(0, eq);
                if (!key.equals("lowerdir") && !key.equals("upperdir") && !key.equals("workdir")) {
                    continue;
                }
                for (String used : option.substring(eq + 1).split(":")) {
                    if (used.equals(base) || used.startsWith(base + "/")) {
                        out.add(Path.of(unescapeOctal(f[4])));
                    }
                }
            }
        }
        return out;
    }

    /** mountinfo escapes space, tab, newline and backslash as three-digit octal. */
    private static String unescapeOctal(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\\' && i + 3 < s.length()) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(ch);
            }
        }
        return sb.toString();
    }

    /** Mount points at or below {@code dir}, deepest first. */
    public static List<Path> mountPointsUnder(Path dir) {
        return MountInfo.mountPointsUnder(dir);
    }

    private static boolean detach(String target) {
        int rc = SYS.tryUmount2(target, Syscalls.MNT_DETACH);
        if (rc == 0) {
            return true;
        }
        throw error("umount2(MNT_DETACH)", -rc, "", target, "", null);
    }

    private static void mount(String source, String target, String fstype, long flags, String data) {
        try {
            SYS.mount(source, target, fstype, flags, data);
        } catch (ErrnoException e) {
            throw error("mount", e.errno(), source, target, fstype, null);
        }
    }

    static MountException error(String syscall, int errno, String source, String target, String fstype,
                                String kernelMessage) {
        return new MountException(syscall, errno, Errno.name(errno), Errno.describe(errno), source, target,
                fstype, kernelMessage);
    }
}
