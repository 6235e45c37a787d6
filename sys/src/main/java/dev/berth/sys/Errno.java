package dev.berth.sys;

import java.util.Map;

/** Linux errno values Berth reacts to, and their symbolic names for messages. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EXDEV = 18;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int ETXTBSY = 26;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int EMLINK = 31;
    public static final int ERANGE = 34;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int ENOTEMPTY = 39;
    public static final int ELOOP = 40;
    public static final int ENODATA = 61;
    public static final int EOVERFLOW = 75;
    public static final int EOPNOTSUPP = 95;
    public static final int EDQUOT = 122;

    // Linux x86_64/aarch64 values; used only when libc cannot name the error itself (glibc < 2.32, musl).
    private static final Map<Integer, String> FALLBACK = Map.ofEntries(
            Map.entry(EPERM, "EPERM"), Map.entry(ENOENT, "ENOENT"), Map.entry(ESRCH, "ESRCH"),
            Map.entry(EINTR, "EINTR"), Map.entry(EIO, "EIO"), Map.entry(6, "ENXIO"), Map.entry(E2BIG, "E2BIG"),
            Map.entry(EBADF, "EBADF"), Map.entry(EAGAIN, "EAGAIN"), Map.entry(ENOMEM, "ENOMEM"),
            Map.entry(EACCES, "EACCES"), Map.entry(14, "EFAULT"), Map.entry(15, "ENOTBLK"),
            Map.entry(EBUSY, "EBUSY"), Map.entry(EEXIST, "EEXIST"), Map.entry(EXDEV, "EXDEV"),
            Map.entry(ENODEV, "ENODEV"), Map.entry(ENOTDIR, "ENOTDIR"), Map.entry(EISDIR, "EISDIR"),
            Map.entry(EINVAL, "EINVAL"), Map.entry(23, "ENFILE"), Map.entry(EMFILE, "EMFILE"),
            Map.entry(ETXTBSY, "ETXTBSY"), Map.entry(EFBIG, "EFBIG"), Map.entry(ENOSPC, "ENOSPC"),
            Map.entry(EROFS, "EROFS"), Map.entry(EMLINK, "EMLINK"), Map.entry(ERANGE, "ERANGE"),
            Map.entry(ENAMETOOLONG, "ENAMETOOLONG"), Map.entry(ENOSYS, "ENOSYS"),
            Map.entry(ENOTEMPTY, "ENOTEMPTY"), Map.entry(ELOOP, "ELOOP"), Map.entry(ENODATA, "ENODATA"),
            Map.entry(EOVERFLOW, "EOVERFLOW"), Map.entry(EOPNOTSUPP, "EOPNOTSUPP"), Map.entry(EDQUOT, "EDQUOT"));

    private static volatile boolean libcNames = true;

    private Errno() {
    }

    /** {@code EPERM}, {@code EINVAL}, ...; {@code errno <n>} for a number nobody can name. */
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
        return fallbackName(errno);
    }

    /** The name from Berth's own table, {@code errno <n>} when it has none. */
    static String fallbackName(int errno) {
        return FALLBACK.getOrDefault(errno, "errno " + errno);
    }

    /** libc's description, e.g. {@code Operation not permitted}; empty if libc has none. */
    public static String describe(int errno) {
        try {
            String s = LibC.INSTANCE.strerror(errno);
            return s == null ? "" : s;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return "";
        }
    }
}
