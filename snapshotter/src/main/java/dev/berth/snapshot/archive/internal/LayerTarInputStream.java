package dev.berth.snapshot.archive.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveStructSparse;

/**
 * commons-compress' tar reader plus what a layer applier needs from the raw headers:
 * <ul>
 *   <li>xattrs from PAX {@code SCHILY.xattr.*} records <b>byte-exact</b> (libarchive's
 *       {@code LIBARCHIVE.xattr.*} records are ignored, as Go's reader and so containerd ignore them) — commons-compress decodes PAX
 *       values as UTF-8, which corrupts binary values such as {@code security.capability}; the PAX data
 *       is captured as it is read and parsed here;</li>
 *   <li>header checksum verification;</li>
 *   <li>the raw type flag of each entry, so unknown types are rejected rather than read as files;</li>
 *   <li>a 1 MiB cap on PAX / GNU long-name records (as Go's archive/tar), so a hostile header cannot
 *       exhaust memory;</li>
 *   <li>the entry boundaries Go's archive/tar (containerd, Docker, most scanners) sees, so that a layer
 *       cannot show Berth other entries than it shows them: link, symlink, device, fifo and directory
 *       entries carry no content whatever their size field says; a regular file ({@code '0'}) whose name
 *       ends in '/' is a file with content, not a directory; global PAX headers ({@code 'g'}) are skipped
 *       without affecting later entries. Meta header sequences the two readers would interpret
 *       differently (two PAX or two GNU long-name headers for one entry, a GNU long name together with a
 *       PAX path, a PAX size on a content-less entry, a meta header before a global header) are
 *       rejected.</li>
 * </ul>
 */
public final class LayerTarInputStream extends TarArchiveInputStream {
    static final int MAX_SPECIAL_SIZE = 1 << 20;
    private static final String SCHILY_XATTR = "SCHILY.xattr.";

    private final ByteArrayOutputStream capture = new ByteArrayOutputStream();
    /** Rewrites GNU sparse sizes in PAX records as commons-compress reads them (see {@link SparseSizeMask}). */
    private final SparseSizeMask sparseSizeMask = new SparseSizeMask();
    /** The 64-bit {@code GNU.sparse.realsize} or {@code GNU.sparse.size} of the current entry's PAX header. */
    private long paxSparseRealSize = -1;
    private long specialBytes;
    private int depth;
    private byte entryTypeflag;
    private boolean typeflagSeen;
    private boolean sawEndMarker;
    private final Map<String, byte[]> localXattrs = new LinkedHashMap<>();
    /** Meta header types ('x', 'L', 'K') read for the current entry. */
    private final StringBuilder metaSeen = new StringBuilder();
    /** PAX keys (other than xattrs) of the current entry's local PAX header. */
    private final java.util.Set<String> paxKeys = new java.util.HashSet<>();
    /** The PAX key ("path" or "linkpath") of the current entry whose value is not valid UTF-8, if any. */
    private String invalidPaxUtf8;
    /** The current header was a global PAX header, disguised as a plain entry so its records are ignored. */
    private boolean globalHeader;
    /** Old GNU sparse extension blocks still to come (they are not headers). */
    private boolean sparseExtensionPending;
    /**
     * For a sparse entry: where its last data extent ends, and how far its expanded content was read.
     * commons-compress fails ("Truncated TAR archive") when asked for the hole after the last extent of a
     * map that does not end with an empty extent at the real size; Go's reader accepts such maps.
     */
    private long sparseDataEnd = -1;
    private long sparsePos;

    /** Length of the reads that drive a diverted transfer (the array itself is never written). */
    private static final int DIVERT_READ = 1 << 20;
    private final LayerStream.Divertible divertible;
    private byte[] divertTarget;

    public LayerTarInputStream(InputStream in) {
        this(new RawReads(in));
    }

    private LayerTarInputStream(RawReads raw) {
        // header names are decoded byte for byte and turned into UTF-8 here (transcodeNames): commons-compress
        // would replace every invalid UTF-8 byte by '?', silently merging different names into one
        super(raw, StandardCharsets.ISO_8859_1.name());
        this.divertible = raw.source() instanceof LayerStream.Divertible d ? d : null;
        raw.beforeRead = this::fixSparseRealSize;
    }

    /**
     * commons-compress reads a PAX 1.0 sparse map straight from the underlying stream after giving the
     * entry its (masked) real size and before checking the map against it: the real size is set here.
     */
    private void fixSparseRealSize() throws TarFormatException {
        TarArchiveEntry e = getCurrentEntry();
        if (paxSparseRealSize >= 0 && e != null && e.isPaxGNUSparse() && e.getRealSize() != paxSparseRealSize) {
            SparseSizeMask.setRealSize(e, paxSparseRealSize);
        }
    }

    /** The stream under commons-compress, telling this reader before each read. */
    private static final class RawReads extends java.io.FilterInputStream {
        interface Hook {
            void run() throws IOException;
        }

        Hook beforeRead = () -> { };

        RawReads(InputStream in) {
            super(in);
        }

        InputStream source() {
            return in;
        }

        @Override
        public int read() throws IOException {
            beforeRead.run();
            return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            beforeRead.run();
            return in.read(b, off, len);
        }
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
            if (depth > 1) {
                return super.getNextEntry(); // commons-compress reading the entry after a meta header
            }
            while (true) {
                localXattrs.clear();
                paxKeys.clear();
                invalidPaxUtf8 = null;
                metaSeen.setLength(0);
                capture.reset();
                sparseSizeMask.reset();
                paxSparseRealSize = -1;
                typeflagSeen = false;
                entryTypeflag = 0;
                globalHeader = false;
                TarArchiveEntry e = super.getNextEntry();
                flushCapture();
                if (e != null && globalHeader) {
                    // PAX global headers are ignored, as containerd does (Go's reader never merges them)
                    if (e.getSize() > MAX_SPECIAL_SIZE) {
                        throw new TarFormatException("PAX global header larger than " + MAX_SPECIAL_SIZE + " bytes");
                    }
                    byte[] skip = new byte[8192];
                    while (read(skip, 0, skip.length) >= 0) {
                        // skipped
                    }
                    continue;
                }
                if (e != null) {
                    checkEntry(e);
                    transcodeNames(e);
                    if (e.isPaxGNUSparse() && paxSparseRealSize >= 0) {
                        SparseSizeMask.setRealSize(e, paxSparseRealSize);
                    }
                    if (e.isSparse()) {
                        sparsePos = 0;
                        sparseDataEnd = 0;
                        for (TarArchiveStructSparse x : e.getSparseHeaders()) {
                            sparseDataEnd = Math.max(sparseDataEnd, x.getOffset() + x.getNumbytes());
                        }
                    }
                }
                return e;
            }
        } finally {
            depth--;
        }
    }

    private void checkEntry(TarArchiveEntry e) throws TarFormatException {
        if (metaSeen.indexOf("L") >= 0 && paxKeys.contains("path")) {
            throw new TarFormatException("entry has both a GNU long name and a PAX path");
        }
        if (metaSeen.indexOf("K") >= 0 && paxKeys.contains("linkpath")) {
            throw new TarFormatException("entry has both a GNU long link name and a PAX linkpath");
        }
        if (isHeaderOnly(entryTypeflag) && e.getSize() != 0) {
            throw new TarFormatException("PAX size " + e.getSize() + " on an entry of type '" + (char) entryTypeflag
                    + "', which has no content");
        }
        if ((entryTypeflag == '0' || entryTypeflag == '7' || entryTypeflag == 'S') && e.getName().endsWith("/")
                && e.getSize() != 0) {
            throw new TarFormatException("regular file entry with content has a directory name (trailing '/')");
        }
    }

    /**
     * Names from ustar fields and GNU long-name records were decoded as ISO-8859-1, one char per byte;
     * they must be UTF-8 (names from PAX records were decoded as UTF-8 and checked by {@link #parsePax}).
     * Names that are not valid UTF-8 are rejected: file names are passed to the kernel as UTF-8, so they
     * could not be reproduced byte for byte.
     */
    private void transcodeNames(TarArchiveEntry e) throws TarFormatException {
        if (!paxKeys.contains("path")) {
            e.setName(utf8(e.getName(), "entry name"));
        }
        if (!paxKeys.contains("linkpath") && !e.getLinkName().isEmpty()) {
            e.setLinkName(utf8(e.getLinkName(), "link target"));
        }
        if (invalidPaxUtf8 != null) {
            throw new TarFormatException("PAX " + invalidPaxUtf8 + " is not valid UTF-8");
        }
    }

    private static String utf8(String latin1, String what) throws TarFormatException {
        boolean ascii = true;
        for (int i = 0; i < latin1.length() && ascii; i++) {
            ascii = latin1.charAt(i) < 0x80;
        }
        if (ascii) {
            return latin1;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(latin1.getBytes(StandardCharsets.ISO_8859_1))).toString();
        } catch (java.nio.charset.CharacterCodingException ex) {
            throw new TarFormatException(what + " \"" + latin1 + "\" is not valid UTF-8 (only UTF-8 names are supported)");
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
     * The xattrs of the current entry from its own PAX header, values byte-exact (global PAX headers are
     * ignored, as by containerd).
     */
    public Map<String, byte[]> xattrs() {
        if (localXattrs.isEmpty()) {
            return Collections.emptyMap();
        }
        return new LinkedHashMap<>(localXattrs);
    }

    @Override
    protected byte[] readRecord() throws IOException {
        flushCapture();
        specialBytes = 0;
        sparseDataEnd = -1; // the previous entry's content is behind us
        byte[] record = super.readRecord();
        if (record == null || record.length < 512) {
            return record;
        }
        if (sparseExtensionPending) {
            sparseExtensionPending = record[504] != 0; // an old GNU sparse map continuation, not a header
            return record;
        }
        if (isZero(record)) {
            return record;
        }
        verifyChecksum(record);
        byte type = record[156];
        if (type == 'g') {
            if (metaSeen.length() > 0) {
                throw new TarFormatException("PAX global header follows a meta header");
            }
            disguiseGlobalHeader(record);
            globalHeader = true;
            return record;
        }
        if (isSpecial(type)) {
            char kind = type == 'X' ? 'x' : (char) type;
            if (metaSeen.indexOf(String.valueOf(kind)) >= 0) {
                throw new TarFormatException("two '" + kind + "' meta headers for one entry");
            }
            metaSeen.append(kind);
            return record;
        }
        if (!typeflagSeen) {
            typeflagSeen = true;
            entryTypeflag = type;
            if (isHeaderOnly(type)) {
                zeroSize(record);
            } else if (type == '0' || type == '7' || type == 'S') {
                stripTrailingSlashes(record);
                sparseExtensionPending = type == 'S' && record[482] != 0;
            }
        }
        return record;
    }

    /** Link, symlink, device, directory and fifo entries: Go's archive/tar never reads content for them. */
    static boolean isHeaderOnly(byte type) {
        return type >= '1' && type <= '6';
    }

    private static void zeroSize(byte[] h) {
        if (h[124] == '0' && allOctalZero(h, 124, 12)) {
            return;
        }
        java.util.Arrays.fill(h, 124, 135, (byte) '0');
        h[135] = 0;
        fixChecksum(h);
    }

    private static boolean allOctalZero(byte[] h, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (h[i] != '0' && h[i] != 0 && h[i] != ' ') {
                return false;
            }
        }
        return true;
    }

    /**
     * A regular file named "x/" in the ustar name field: commons-compress would take it for a directory
     * (and not read its content), Go's reader for a file; drop the slash so both see file "x".
     */
    private static void stripTrailingSlashes(byte[] h) {
        int end = 0;
        while (end < 100 && h[end] != 0) {
            end++;
        }
        int n = end;
        while (n > 0 && h[n - 1] == '/') {
            n--;
        }
        if (n == end) {
            return;
        }
        java.util.Arrays.fill(h, n, end, (byte) 0);
        fixChecksum(h);
    }

    /**
     * Turns a global PAX header into a plain, nameless regular file, so commons-compress reads past its
     * records instead of applying them to every later entry.
     */
    private static void disguiseGlobalHeader(byte[] h) {
        java.util.Arrays.fill(h, 0, 100, (byte) 0);
        java.util.Arrays.fill(h, 157, 257, (byte) 0);
        java.util.Arrays.fill(h, 345, 500, (byte) 0); // ustar prefix (and GNU's fields there)
        h[156] = '0';
        fixChecksum(h);
    }

    private static void fixChecksum(byte[] h) {
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        byte[] digits = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(digits, 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
    }

    @Override
    protected boolean isEOFRecord(byte[] record) {
        boolean eof = super.isEOFRecord(record);
        if (eof && record != null) {
            sawEndMarker = true;
        }
        return eof;
    }

    private boolean sparseDataConsumed() {
        return sparseDataEnd >= 0 && sparsePos >= sparseDataEnd;
    }

    @Override
    public int available() throws IOException {
        return sparseDataConsumed() ? 0 : super.available();
    }

    @Override
    public long skip(long n) throws IOException {
        if (sparseDataConsumed()) {
            return 0; // the rest is the trailing hole
        }
        long s = super.skip(sparseDataEnd >= 0 ? Math.min(n, sparseDataEnd - sparsePos) : n);
        if (s > 0 && sparseDataEnd >= 0) {
            sparsePos += s;
        }
        return s;
    }

    @Override
    public int read(byte[] buf, int offset, int len) throws IOException {
        if (sparseDataConsumed()) {
            return -1; // the rest is the trailing hole, which the writer leaves as a hole anyway
        }
        if (sparseDataEnd >= 0) {
            len = (int) Math.min(len, sparseDataEnd - sparsePos);
        }
        int n = super.read(buf, offset, len);
        if (n > 0 && sparseDataEnd >= 0) {
            sparsePos += n;
        }
        TarArchiveEntry current = getCurrentEntry();
        if (n > 0 && current != null && isSpecialEntry(current)) {
            specialBytes += n;
            if (specialBytes > MAX_SPECIAL_SIZE) {
                throw new TarFormatException("PAX or GNU long-name header larger than " + MAX_SPECIAL_SIZE + " bytes");
            }
            if (current.isPaxHeader()) {
                capture.write(buf, offset, n);
                sparseSizeMask.mask(buf, offset, n);
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

    private void flushCapture() throws TarFormatException {
        if (capture.size() == 0) {
            return;
        }
        byte[] data = capture.toByteArray();
        capture.reset();
        parsePax(data, localXattrs, paxKeys);
        for (String k : new String[] {"GNU.sparse.realsize", "GNU.sparse.size"}) {
            byte[] v = rawPaxValue(data, k);
            if (v != null) {
                paxSparseRealSize = SparseSizeMask.parseSize(k, new String(v, StandardCharsets.US_ASCII));
            }
        }
        for (String k : new String[] {"path", "linkpath"}) {
            byte[] v = rawPaxValue(data, k);
            if (v != null && !validUtf8(v)) {
                invalidPaxUtf8 = k;
            }
        }
    }

    /**
     * Parses PAX records ({@code "<len> <key>=<value>\n"}) keeping values as raw bytes; records xattr
     * keys into {@code into}.
     */
    static void parsePaxXattrs(byte[] data, Map<String, byte[]> into) {
        parsePax(data, into, new java.util.HashSet<>());
    }

    /** As {@link #parsePaxXattrs}, also collecting the other keys into {@code keys}. */
    static void parsePax(byte[] data, Map<String, byte[]> into, java.util.Set<String> keys) {
        forEachPaxRecord(data, (key, value) -> {
            keys.add(key);
            if (key.startsWith(SCHILY_XATTR) && key.length() > SCHILY_XATTR.length()) {
                into.put(key.substring(SCHILY_XATTR.length()), value);
            }
        });
    }

    /** Calls {@code fn} with each well-formed PAX record ({@code "<len> <key>=<value>\n"}), value raw. */
    private static void forEachPaxRecord(byte[] data, java.util.function.BiConsumer<String, byte[]> fn) {
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
                // an empty value is an empty xattr (as Go's reader and containerd have it)
                fn.accept(key, java.util.Arrays.copyOfRange(data, eq + 1, Math.max(eq + 1, valueEnd)));
            }
            i = end;
        }
    }

    /** The raw bytes of the last record {@code key} in PAX data, or null. */
    static byte[] rawPaxValue(byte[] data, String key) {
        byte[][] found = new byte[1][];
        forEachPaxRecord(data, (k, v) -> {
            if (k.equals(key)) {
                found[0] = v;
            }
        });
        return found[0];
    }

    private static boolean validUtf8(byte[] v) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(v));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
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
