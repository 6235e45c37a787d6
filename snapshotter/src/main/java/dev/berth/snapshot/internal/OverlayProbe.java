package dev.berth.snapshot.internal;

import dev.berth.api.Mount;
import dev.berth.snapshot.mount.MountException;
import dev.berth.sys.FileTrees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Decides overlay's default mount options and whether overlay can be mounted on a given file system. */
public final class OverlayProbe {
    private static final Path INDEX_PARAM = Path.of("/sys/module/overlay/parameters/index");
    private static final Path UID_MAP = Path.of("/proc/self/uid_map");

    private OverlayProbe() {
    }

    /** Result of a probe: an empty {@code failure} means overlay works there. */
    public record Result(String failure, List<String> defaultOptions) {
    }

    /**
     * containerd's defaults: {@code index=off} when the kernel has the parameter (an index would tie
     * each lower dir to one upper and break sharing layers), {@code userxattr} inside a user namespace
     * (only {@code user.overlay.*} xattrs are writable there).
     */
    public static List<String> defaultOptions() {
        List<String> out = new ArrayList<>();
        if (Files.exists(INDEX_PARAM)) {
            out.add("index=off");
        }
        if (inUserNamespace()) {
            out.add("userxattr");
        }
        return out;
    }

    /** Whether this process runs in a user namespace other than the initial one. */
    public static boolean inUserNamespace() {
        try {
            String map = Files.readString(UID_MAP, StandardCharsets.US_ASCII).trim();
            return !map.matches("0\\s+0\\s+4294967295");
        } catch (IOException e) {
            return false;
        }
    }

    private static final String REMEMBERED = ".overlay-probe";
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");
    private static final Path OS_RELEASE = Path.of("/proc/sys/kernel/osrelease");

    /** What a remembered probe must match: this boot, this kernel, these default options. */
    private static String fingerprint(List<String> options) {
        try {
            return "boot " + Files.readString(BOOT_ID, StandardCharsets.US_ASCII).strip()
                    + "\nkernel " + Files.readString(OS_RELEASE, StandardCharsets.US_ASCII).strip()
                    + "\noptions " + String.join(",", options) + "\n";
        } catch (IOException e) {
            return null;
        }
    }

    /** Whether a probe of {@code dir} succeeded earlier in this boot, on this kernel, with {@code options}. */
    public static boolean rememberedSuccess(Path dir, List<String> options) {
        String expected = fingerprint(options);
        try {
            return expected != null && expected.equals(Files.readString(dir.resolve(REMEMBERED), StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Where successes are also remembered per file system, for this boot ({@code /run} is emptied at boot):
     * a new root on a file system overlay was already mounted on is not probed again. Probing loads the
     * native mount binding, which costs a short CLI call on a fresh root more than everything else it does.
     */
    static final Path PER_FILE_SYSTEM = Path.of("/run/berth-overlay-probe");

    /**
     * The per-file-system memo of {@code dir}: named by the device of a block-device file system. Null for
     * anonymous devices (tmpfs, overlay, btrfs subvolumes: their numbers are reused by the next such mount),
     * so those are always probed.
     */
    static Path perFileSystemMemo(Path dir) {
        try {
            long dev = ((Number) Files.getAttribute(dir, "unix:dev")).longValue();
            long major = ((dev >>> 8) & 0xfffL) | ((dev >>> 32) & ~0xfffL);
            long minor = (dev & 0xffL) | ((dev >>> 12) & ~0xffL);
            return major == 0 ? null : PER_FILE_SYSTEM.resolve("dev-" + major + "-" + minor);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
    }

    /** Whether a probe on {@code dir}'s file system succeeded earlier in this boot with {@code options}. */
    public static boolean rememberedOnFileSystem(Path dir, List<String> options) {
        Path memo = perFileSystemMemo(dir);
        String expected = fingerprint(options);
        try {
            return memo != null && expected != null
                    && expected.equals(Files.readString(memo, StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return false;
        }
    }

    /** Records a successful probe of {@code dir} for its file system (best effort: not as root, not at all). */
    public static void rememberOnFileSystem(Path dir, List<String> options) {
        Path memo = perFileSystemMemo(dir);
        String fingerprint = fingerprint(options);
        if (memo == null || fingerprint == null) {
            return;
        }
        try {
            Files.createDirectories(PER_FILE_SYSTEM, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
            writeByRename(PER_FILE_SYSTEM, memo, fingerprint);
        } catch (IOException e) {
            // not remembered: the next new root probes again
        }
    }

    private static void writeByRename(Path dir, Path target, String text) throws IOException {
        Path tmp = Files.createTempFile(dir, REMEMBERED, ".tmp",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(tmp, text, StandardCharsets.US_ASCII);
            Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Records a successful probe of {@code dir} (written under a temporary name, then renamed). */
    public static void rememberSuccess(Path dir, List<String> options) {
        String fingerprint = fingerprint(options);
        if (fingerprint == null) {
            return;
        }
        try {
            writeByRename(dir, dir.resolve(REMEMBERED), fingerprint);
        } catch (IOException e) {
            // not remembered: the next open probes again
        }
    }

    /** Mounts a two-layer overlay with an upper dir in a scratch directory under {@code dir}. */
    public static Result probe(Path dir, List<String> options) {
        Path scratch = null;
        try {
            Files.createDirectories(dir);
            scratch = Files.createTempDirectory(dir, "overlay-probe-");
            Path l1 = Files.createDirectory(scratch.resolve("l1"));
            Path l2 = Files.createDirectory(scratch.resolve("l2"));
            Path upper = Files.createDirectory(scratch.resolve("u"));
            Path work = Files.createDirectory(scratch.resolve("w"));
            Path merged = Files.createDirectory(scratch.resolve("m"));
            Files.writeString(l1.resolve("a"), "a");
            List<String> opts = new ArrayList<>(options);
            opts.add("workdir=" + work);
            opts.add("upperdir=" + upper);
            opts.add("lowerdir=" + l2 + ":" + l1);
            LinuxMounter.mount(new Mount("overlay", "overlay", opts), merged);
            try {
                if (!Files.exists(merged.resolve("a"))) {
                    return new Result("overlay mounted at " + merged + " but does not show its lower layer", options);
                }
            } finally {
                LinuxMounter.unmountAll(merged);
            }
            return new Result("", options);
        } catch (MountException e) {
            return new Result(e.getMessage(), options);
        } catch (IOException | RuntimeException e) {
            return new Result("overlay probe in " + dir + " failed: " + e, options);
        } finally {
            if (scratch != null) {
                try {
                    FileTrees.deleteTree(scratch);
                } catch (IOException ignored) {
                    // A leftover probe directory is harmless and named as such.
                }
            }
        }
    }
}
