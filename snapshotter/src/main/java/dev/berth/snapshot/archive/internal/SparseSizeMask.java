package dev.berth.snapshot.archive.internal;

import dev.berth.snapshot.archive.internal.LayerTarInputStream.TarFormatException;
import java.lang.reflect.Field;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * Lets GNU sparse files above 2 GiB through commons-compress, which parses {@code GNU.sparse.realsize} and
 * {@code GNU.sparse.size} as 32-bit ints and fails on larger files. As the PAX records stream past on
 * their way to its parser, a value of ten digits or more is replaced by {@code 2147483647} padded with
 * zeros to the same length (so record lengths stay right); {@link LayerTarInputStream} parses the original
 * value as 64 bits, as Go's reader does, and sets it as the entry's real size before the sparse map is
 * checked against it (PAX 1.0, GNU tar's format) or, for the old 0.x formats, before any content is read
 * (their maps are checked against the clamped size, so their data must end below 2 GiB).
 */
final class SparseSizeMask {
    private static final String[] KEYS = {"GNU.sparse.realsize", "GNU.sparse.size"};
    private static final Field REAL_SIZE = realSizeField();

    private enum State { LENGTH, KEY, VALUE, OTHER_VALUE }

    private static final byte[] INT_MAX = "2147483647".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private State state = State.LENGTH;
    private byte[] replacement;
    private int replaced;
    private long recordLength;
    private long recordRead;
    private final StringBuilder key = new StringBuilder();

    /** Starts over at the beginning of a PAX header. */
    void reset() {
        state = State.LENGTH;
        recordLength = 0;
        recordRead = 0;
        key.setLength(0);
    }

    /** Masks, in place, the digits of sparse sizes among the next {@code n} bytes of PAX records. */
    void mask(byte[] buf, int off, int n) {
        for (int i = off; i < off + n; i++) {
            byte b = buf[i];
            recordRead++;
            switch (state) {
                case LENGTH -> {
                    if (b >= '0' && b <= '9' && recordLength < Integer.MAX_VALUE) {
                        recordLength = recordLength * 10 + (b - '0');
                    } else if (b == ' ') {
                        state = State.KEY;
                    } else {
                        state = State.OTHER_VALUE; // malformed: commons-compress reports it
                    }
                }
                case KEY -> {
                    if (b == '=') {
                        long valueLength = recordLength - recordRead - 1; // without the newline
                        state = isSparseSize(key) && valueLength >= INT_MAX.length && valueLength < 64
                                ? State.VALUE : State.OTHER_VALUE;
                        if (state == State.VALUE) {
                            replacement = new byte[(int) valueLength];
                            java.util.Arrays.fill(replacement, (byte) '0');
                            System.arraycopy(INT_MAX, 0, replacement, replacement.length - INT_MAX.length,
                                    INT_MAX.length);
                            replaced = 0;
                        }
                    } else if (key.length() < 64) {
                        key.append((char) (b & 0xff));
                    }
                }
                case VALUE -> {
                    if (replaced < replacement.length) {
                        buf[i] = replacement[replaced++];
                    }
                }
                case OTHER_VALUE -> {
                    // passed on unchanged
                }
            }
            if (recordLength > 0 && recordRead >= recordLength) {
                reset();
            }
        }
    }

    private static boolean isSparseSize(CharSequence key) {
        for (String k : KEYS) {
            if (k.contentEquals(key)) {
                return true;
            }
        }
        return false;
    }

    /** A sparse size record's value as a non-negative 64-bit number. */
    static long parseSize(String key, String value) throws TarFormatException {
        try {
            long size = Long.parseLong(value.trim());
            if (size < 0) {
                throw new NumberFormatException("negative");
            }
            return size;
        } catch (NumberFormatException e) {
            throw new TarFormatException("PAX " + key + " \"" + value + "\" is not a size");
        }
    }

    static void setRealSize(TarArchiveEntry entry, long size) throws TarFormatException {
        if (REAL_SIZE == null) {
            if (size > Integer.MAX_VALUE) {
                throw new TarFormatException("sparse file of " + size + " bytes: this commons-compress "
                        + "version's TarArchiveEntry cannot hold its size");
            }
            return;
        }
        try {
            REAL_SIZE.setLong(entry, size);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Field realSizeField() {
        try {
            Field f = TarArchiveEntry.class.getDeclaredField("realSize");
            f.setAccessible(true);
            return f.getType() == long.class ? f : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
