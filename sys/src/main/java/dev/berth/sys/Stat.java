package dev.berth.sys;

/**
 * The fields of {@code struct stat} Berth uses, in the x86_64 layout (other architectures differ).
 * {@code blocks} counts 512-byte units allocated.
 */
public record Stat(long dev, long ino, long nlink, int mode, int uid, int gid, long rdev, long size, long blocks,
                   long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec) {
    static final int SIZE = 144;

    static Stat parse(byte[] b) {
        return new Stat(getLong(b, 0), getLong(b, 8), getLong(b, 16), getInt(b, 24), getInt(b, 28), getInt(b, 32),
                getLong(b, 40), getLong(b, 48), getLong(b, 64), getLong(b, 72), getLong(b, 80), getLong(b, 88),
                getLong(b, 96));
    }

    public int type() {
        return mode & Syscalls.S_IFMT;
    }

    public boolean isDirectory() {
        return type() == Syscalls.S_IFDIR;
    }

    public boolean isSymlink() {
        return type() == Syscalls.S_IFLNK;
    }

    public boolean isRegular() {
        return type() == Syscalls.S_IFREG;
    }

    /** An overlayfs whiteout: a character device with device number 0/0. */
    public boolean isWhiteout() {
        return type() == Syscalls.S_IFCHR && rdev == 0;
    }

    public int permissions() {
        return mode & 07777;
    }

    private static long getLong(byte[] b, int off) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xffL);
        }
        return v;
    }

    private static int getInt(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }
}
