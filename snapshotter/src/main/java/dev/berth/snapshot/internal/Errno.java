package dev.berth.snapshot.internal;

import java.util.Map;

/** Symbolic names of Linux errno values, for error messages. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EBUSY = 16;
    public static final int EINVAL = 22;
    public static final int ENOSYS = 38;

    // Linux x86_64/aarch64 values; used only when libc cannot name the error itself.
    private static final Map<Integer, String> FALLBACK = Map.ofEntries(
            Map.entry(1, "EPERM"), Map.entry(2, "ENOENT"), Map.entry(3, "ESRCH"), Map.entry(4, "EINTR"),
            Map.entry(5, "EIO"), Map.entry(6, "ENXIO"), Map.entry(7, "E2BIG"), Map.entry(9, "EBADF"),
            Map.entry(11, "EAGAIN"), Map.entry(12, "ENOMEM"), Map.entry(13, "EACCES"), Map.entry(14, "EFAULT"),
            Map.entry(15, "ENOTBLK"), Map.entry(16, "EBUSY"), Map.entry(17, "EEXIST"), Map.entry(18, "EXDEV"),
            Map.entry(19, "ENODEV"), Map.entry(20, "ENOTDIR"), Map.entry(21, "EISDIR"), Map.entry(22, "EINVAL"),
            Map.entry(23, "ENFILE"), Map.entry(24, "EMFILE"), Map.entry(28, "ENOSPC"), Map.entry(30, "EROFS"),
            Map.entry(36, "ENAMETOOLONG"), Map.entry(38, "ENOSYS"), Map.entry(39, "ENOTEMPTY"),
            Map.entry(40, "ELOOP"), Map.entry(61, "ENODATA"), Map.entry(95, "EOPNOTSUPP"));

    private static volatile boolean libcNames = true;

    private Errno() {
    }

    /** {@code EPERM}, {@code EINVAL}, ...; {@code errno <n>} for numbers nobody can name. */
    public static String name(int errno) {
        if (libcNames) {
            try {
                String n = LibC.INSTANCE.strerrorname_np(errno);
                if (n != null) {
                    return n;
                }
            } catch (UnsatisfiedLinkError | RuntimeException e) {
                libcNames = false;
            }
        }
        return FALLBACK.getOrDefault(errno, "errno " + errno);
    }

    /** libc's description, e.g. {@code Operation not permitted}. */
    public static String describe(int errno) {
        try {
            String s = LibC.INSTANCE.strerror(errno);
            return s == null ? "" : s;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return "";
        }
    }
}
