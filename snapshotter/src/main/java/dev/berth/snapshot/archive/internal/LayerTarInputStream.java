package dev.berth.snapshot.archive.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * commons-compress' tar reader plus what a layer applier needs from the raw headers:
 * <ul>
 *   <li>xattrs from PAX {@code SCHILY.xattr.*} records <b>byte-exact</b> — commons-compress decodes PAX
 *       values as UTF-8, which corrupts binary values such as {@code security.capability}; the PAX data
 *       is captured as it is read and parsed here;</li>
 *   <li>header checksum verification;</li>
 *   <li>the raw type flag of each entry, so unknown types are rejected rather than read as files;</li>
 *   <li>a 1 MiB cap on PAX / GNU long-name records (as Go's archive/tar), so a hostile header cannot
 *       exhaust memory.</li>
 * </ul>
 */
public final class LayerTarInputStream extends TarArchiveInputStream {
    static final int MAX_SPECIAL_SIZE = 1 << 20;
    private static final String SCHILY_XATTR = "SCHILY.xattr.";
    private static final String LIBARCHIVE_XATTR = "LIBARCHIVE.xattr.";

    private final ByteArrayOutputStream capture = new ByteArrayOutputStream();
    private boolean captureGlobal;
    private long specialBytes;
    private int depth;
    private byte entryTypeflag;
    private boolean typeflagSeen;
    private boolean sawEndMarker;
    private final Map<String, byte[]> globalXattrs = new LinkedHashMap<>();
    private final Map<String, byte[]> localXattrs = new LinkedHashMap<>();

    /** Length of the reads that drive a diverted transfer (the array itself is never written). */
    private static final int DIVERT_READ = 1 << 20;
    private final LayerStream.Divertible divertible;
    private byte[] divertTarget;

    public LayerTarInputStream(InputStream in) {
        super(in, StandardCharsets.UTF_8.name());
        this.divertible = in instanceof LayerStream.Divertible d ? d : null;
    }

    /**
     * Hands the next {@code n} content bytes of the current (non-sparse) entry to {@code sink} instead of
     * copying them into an array: the entry is read through {@link #read(byte[], int, int)} as usual
     * (which keeps this stream's bookkeeping right), but the underlying stream, while diverted, passes
     * what it consumes to the sink and leaves the array alone. (Not {@link #skip}: commons-io's skip
     * allocates an 8 KiB array per 8 KiB skipped.)
     *
     * @return the bytes transferred, less than {@code n} only when the stream ended early
     * @throws UnsupportedOperationException when the underlying stream cannot divert
     *                                       ({@link #canTransfer()} is false)
     */
    public long transferContent(long n, LayerStream.Sink sink) throws IOException {
        if (divertible == null) {
            throw new UnsupportedOperationException("the underlying stream cannot divert content");
        }
        if (divertTarget == null) {
            divertTarget = new byte[DIVERT_READ];
        }
        divertible.divert(sink);
        boolean ok = false;
        long done = 0;
        try {
            while (done < n) {
                int k = read(divertTarget, 0, (int) Math.min(divertTarget.length, n - done));
                if (k < 0) {
                    break;
                }
                done += k;
            }
            ok = true;
        } finally {
            if (ok) {
                divertible.divert(null);
            } else {
                divertible.abandonDivert();
            }
        }
        return done;
    }

    /** Whether {@link #transferContent} is available (the tar stream is read from a {@link LayerStream}). */
    public boolean canTransfer() {
        return divertible != null;
    }

    @Override
    public TarArchiveEntry getNextEntry() throws IOException {
        depth++;
        try {
            if (depth == 1) {
                localXattrs.clear();
                capture.reset();
                typeflagSeen = false;
                entryTypeflag = 0;
            }
            TarArchiveEntry e = super.getNextEntry();
            if (depth == 1) {
                flushCapture();
            }
            return e;
        } finally {
            depth--;
        }
    }

    /** The type flag byte of the current entry's own header (not of its PAX / GNU meta headers). */
    public byte typeflag() {
        return entryTypeflag;
    }

    /** Whether the two-zero-record end marker was read (false when the stream just ended). */
    public boolean sawEndMarker() {
        return sawEndMarker;
    }

    /**
     * The xattrs of the current entry, values byte-exact: global PAX records overridden by the entry's
     * own.
     */
    public Map<String, byte[]> xattrs() {
        if (globalXattrs.isEmpty() && localXattrs.isEmpty()) {
            return Collections.emptyMap();
        }
        Map<String, byte[]> all = new LinkedHashMap<>(globalXattrs);
        for (Map.Entry<String, byte[]> e : localXattrs.entrySet()) {
            if (e.getValue() == null) {
                all.remove(e.getKey());
            } else {
                all.put(e.getKey(), e.getValue());
            }
        }
        all.values().removeIf(v -> v == null);
        return all;
    }

    @Override
    protected byte[] readRecord() throws IOException {
        flushCapture();
        specialBytes = 0;
        byte[] record = super.readRecord();
        if (record != null && !isZero(record)) {
            verifyChecksum(record);
            byte type = record[156];
            if (!typeflagSeen && !isSpecial(type)) {
                typeflagSeen = true;
                entryTypeflag = type;
            }
        }
        return record;
    }

    @Override
    protected boolean isEOFRecord(byte[] record) {
        boolean eof = super.isEOFRecord(record);
        if (eof && record != null) {
            sawEndMarker = true;
        }
        return eof;
    }

    @Override
    public int read(byte[] buf, int offset, int len) throws IOException {
        int n = super.read(buf, offset, len);
        TarArchiveEntry current = getCurrentEntry();
        if (n > 0 && current != null && isSpecialEntry(current)) {
            specialBytes += n;
            if (specialBytes > MAX_SPECIAL_SIZE) {
                throw new TarFormatException("PAX or GNU long-name header larger than " + MAX_SPECIAL_SIZE + " bytes");
            }
            if (current.isPaxHeader() || current.isGlobalPaxHeader()) {
                captureGlobal = current.isGlobalPaxHeader();
                capture.write(buf, offset, n);
            }
        }
        return n;
    }

    private static boolean isSpecialEntry(TarArchiveEntry e) {
        return e.isPaxHeader() || e.isGlobalPaxHeader() || e.isGNULongNameEntry() || e.isGNULongLinkEntry();
    }

    private static boolean isSpecial(byte type) {
        return type == 'x' || type == 'X' || type == 'g' || type == 'L' || type == 'K';
    }

    private void flushCapture() {
        if (capture.size() == 0) {
            return;
        }
        byte[] data = capture.toByteArray();
        capture.reset();
        parsePaxXattrs(data, captureGlobal ? globalXattrs : localXattrs);
        if (captureGlobal) {
            globalXattrs.values().removeIf(v -> v == null);
        }
    }

    /**
     * Parses PAX records ({@code "<len> <key>=<value>\n"}) keeping values as raw bytes; records xattr
     * keys into {@code into} (a {@code null} value means "unset", from an empty PAX value).
     */
    static void parsePaxXattrs(byte[] data, Map<String, byte[]> into) {
        int i = 0;
        while (i < data.length) {
            int j = i;
            long len = 0;
            while (j < data.length && data[j] >= '0' && data[j] <= '9' && len < Integer.MAX_VALUE) {
                len = len * 10 + (data[j] - '0');
                j++;
            }
            if (j >= data.length || data[j] != ' ' || len <= 0 || i + len > data.length) {
                return; // trailing NUL padding or a malformed record commons-compress already judged
            }
            int end = (int) (i + len);
            int eq = -1;
            for (int k = j + 1; k < end; k++) {
                if (data[k] == '=') {
                    eq = k;
                    break;
                }
            }
            if (eq > 0) {
                String key = new String(data, j + 1, eq - j - 1, StandardCharsets.UTF_8);
                int valueEnd = data[end - 1] == '\n' ? end - 1 : end;
                byte[] value = valueEnd > eq + 1 ? java.util.Arrays.copyOfRange(data, eq + 1, valueEnd) : null;
                if (key.startsWith(SCHILY_XATTR) && key.length() > SCHILY_XATTR.length()) {
                    into.put(key.substring(SCHILY_XATTR.length()), value);
                } else if (key.startsWith(LIBARCHIVE_XATTR) && key.length() > LIBARCHIVE_XATTR.length()) {
                    String name = java.net.URLDecoder.decode(key.substring(LIBARCHIVE_XATTR.length()),
                            StandardCharsets.UTF_8);
                    if (!into.containsKey(name)) {
                        into.put(name, value == null ? null : decodeBase64(value));
                    }
                }
            }
            i = end;
        }
    }

    private static byte[] decodeBase64(byte[] value) {
        try {
            return Base64.getDecoder().decode(new String(value, StandardCharsets.US_ASCII).trim());
        } catch (IllegalArgumentException e) {
            return Base64.getMimeDecoder().decode(value);
        }
    }

    private static boolean isZero(byte[] record) {
        for (byte b : record) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static void verifyChecksum(byte[] header) throws TarFormatException {
        long stored = 0;
        boolean digits = false;
        for (int i = 148; i < 156; i++) {
            byte b = header[i];
            if (b >= '0' && b <= '7') {
                stored = stored * 8 + (b - '0');
                digits = true;
            } else if (b == 0 || b == ' ') {
                if (digits) {
                    break;
                }
            } else {
                throw new TarFormatException("malformed tar header checksum field");
            }
        }
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < header.length; i++) {
            byte b = (i >= 148 && i < 156) ? (byte) ' ' : header[i];
            unsigned += b & 0xff;
            signed += b;
        }
        if (!digits || (stored != unsigned && stored != signed)) {
            throw new TarFormatException("tar header checksum mismatch (stored " + stored + ", computed "
                    + unsigned + ")");
        }
    }

    /** A structurally invalid tar stream. */
    public static final class TarFormatException extends IOException {
        private static final long serialVersionUID = 1L;

        public TarFormatException(String message) {
            super(message);
        }
    }
}
