package dev.berth.runtime.spec;

import dev.berth.api.IoFailureException;

import dev.berth.api.oci.runtime.LinuxDevice;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The host's device nodes under {@code /dev}, as a privileged container gets them (containerd's WithHostDevices). */
final class HostDevices {
    // Mount points and runtime directories of other tools, not device trees (same list as containerd).
    private static final Set<String> SKIPPED_DIRS =
            Set.of("pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev");
    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFCHR = 0020000;

    private HostDevices() {
    }

    static List<LinuxDevice> list(Path dev) {
        List<LinuxDevice> out = new ArrayList<>();
        try {
            collect(dev, out);
        } catch (IOException e) {
            throw IoFailureException.of("listing host devices in " + dev, e);
        }
        return out;
    }

    /**
     * The device node {@code host} (symlinks followed) as {@code containerPath}, or every node under the
     * directory {@code host}, each at its path relative to {@code host} under {@code containerPath}
     * (containerd's WithDevices). Empty when {@code host} is neither a device node nor a directory.
     */
    static List<LinuxDevice> mapped(Path host, String containerPath) {
        try {
            Path real = host.toRealPath();
            List<LinuxDevice> out = new ArrayList<>();
            if (Files.isDirectory(real)) {
                collect(real, out);
                return out.stream().map(d -> d.withPath(containerPath + "/" + real.relativize(Path.of(d.path()))))
                        .toList();
            }
            node(real, out);
            return out.stream().map(d -> d.withPath(containerPath)).toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw IoFailureException.of("reading device " + host, e);
        }
    }

    private static void collect(Path dir, List<LinuxDevice> out) throws IOException {
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            stream.forEach(entries::add);
        }
        entries.sort(null);
        for (Path p : entries) {
            String name = p.getFileName().toString();
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                if (!SKIPPED_DIRS.contains(name)) {
                    collect(p, out);
                }
                continue;
            }
            if (name.equals("console")) {
                continue; // runc sets up /dev/console itself
            }
            node(p, out);
        }
    }

    private static void node(Path p, List<LinuxDevice> out) throws IOException {
        Map<String, Object> attrs;
        try {
            attrs = Files.readAttributes(p, "unix:mode,rdev,uid,gid", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return; // vanished while listing
        }
        int mode = (Integer) attrs.get("mode");
        long rdev = (Long) attrs.get("rdev");
        String type = switch (mode & S_IFMT) {
            case S_IFBLK -> "b";
            case S_IFCHR -> "c";
            default -> null;
        };
        long major = ((rdev >>> 8) & 0xfffL) | ((rdev >>> 32) & 0xfffff000L);
        long minor = (rdev & 0xffL) | ((rdev >>> 12) & 0xffffff00L);
        if (type == null || major == 0) {
            return;
        }
        out.add(new LinuxDevice(p.toString(), type, major, minor, mode & 07777,
                ((Integer) attrs.get("uid")).longValue(), ((Integer) attrs.get("gid")).longValue()));
    }
}
