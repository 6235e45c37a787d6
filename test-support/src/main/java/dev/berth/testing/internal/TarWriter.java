package dev.berth.testing.internal;

import dev.berth.testing.TarEntry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Writes {@link TarEntry} lists with commons-compress. Entries needing nothing beyond what commons
 * derives (long or non-ASCII names, big ids) are left to its POSIX modes; entries carrying xattrs,
 * explicit PAX records or a sub-second mtime get a PAX header written here, because commons encodes
 * PAX values as UTF-8 strings and binary xattrs such as {@code security.capability} must stay byte-exact.
 */
public final class TarWriter {
    /** commons-compress treats names of 100 bytes or more as long (no room for the NUL). */
    private static final int NAME_FIELD = 99;
    private static final long MAX_ID = 07777777L;
    private static final long MAX_SECONDS = 077777777777L;

    private TarWriter() {
    }

    /** Writes the entries and the end-of-archive marker; does not close {@code out}. */
    public static void write(List<TarEntry> entries, OutputStream out) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(new NonClosing(out), 512, "UTF-8");
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.setAddPaxHeadersForNonAsciiNames(true);
        for (TarEntry e : entries) {
            writeEntry(tar, e);
        }
        tar.finish();
        tar.close();
    }

    /** The entries as an uncompressed tar. */
    public static byte[] toBytes(List<TarEntry> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            write(entries, out);
        } catch (IOException e) {
            throw new IllegalStateException("writing a tar to memory failed", e);
        }
        return out.toByteArray();
    }

    private static void writeEntry(TarArchiveOutputStream tar, TarEntry e) throws IOException {
        Instant mtime = e.mtime();
        long seconds = Math.max(0, Math.min(MAX_SECONDS, mtime.getEpochSecond()));
        boolean ownPax = !e.xattrs().isEmpty() || !e.paxRecords().isEmpty() || mtime.getNano() != 0
                || seconds != mtime.getEpochSecond();
        String headerName = e.name();
        String headerLink = e.linkName();
        long uid = e.uid();
        long gid = e.gid();
        if (ownPax) {
            Map<String, byte[]> records = new LinkedHashMap<>();
            if (!fitsHeader(headerName)) {
                records.put("path", utf8(headerName));
                headerName = truncatedAscii(headerName);
            }
            if (!fitsHeader(headerLink)) {
                records.put("linkpath", utf8(headerLink));
                headerLink = truncatedAscii(headerLink);
            }
            if (uid > MAX_ID || uid < 0) {
                records.put("uid", utf8(Long.toString(uid)));
                uid = 0;
            }
            if (gid > MAX_ID || gid < 0) {
                records.put("gid", utf8(Long.toString(gid)));
                gid = 0;
            }
            if (mtime.getNano() != 0 || seconds != mtime.getEpochSecond()) {
                records.put("mtime", utf8(paxTime(mtime)));
            }
            e.xattrs().forEach((k, v) -> records.put("SCHILY.xattr." + k, v));
            e.paxRecords().forEach((k, v) -> records.put(k, utf8(v)));
            byte[] pax = encodePax(records);
            TarArchiveEntry header = new TarArchiveEntry(paxHeaderName(headerName),
                    TarConstants.LF_PAX_EXTENDED_HEADER_LC, true);
            header.setSize(pax.length);
            header.setMode(0644);
            header.setUserName("");
            header.setGroupName("");
            header.setModTime(FileTime.from(seconds, java.util.concurrent.TimeUnit.SECONDS));
            tar.putArchiveEntry(header);
            tar.write(pax);
            tar.closeArchiveEntry();
        }
        TarArchiveEntry entry = new TarArchiveEntry(headerName, (byte) e.typeFlag(), true);
        entry.setMode(e.mode());
        entry.setUserId(uid);
        entry.setGroupId(gid);
        entry.setUserName(e.userName());
        entry.setGroupName(e.groupName());
        entry.setModTime(FileTime.from(ownPax ? seconds : mtime.getEpochSecond(),
                java.util.concurrent.TimeUnit.SECONDS));
        entry.setLinkName(headerLink);
        entry.setDevMajor(e.devMajor());
        entry.setDevMinor(e.devMinor());
        entry.setSize(e.content().length);
        tar.putArchiveEntry(entry);
        tar.write(e.content());
        tar.closeArchiveEntry();
    }

    private static boolean fitsHeader(String s) {
        byte[] b = utf8(s);
        if (b.length > NAME_FIELD) {
            return false;
        }
        for (byte x : b) {
            if (x < 0) {
                return false;
            }
        }
        return true;
    }

    private static String truncatedAscii(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && sb.length() < NAME_FIELD; i++) {
            char c = s.charAt(i);
            sb.append(c < 128 ? c : '_');
        }
        return sb.toString();
    }

    private static String paxHeaderName(String headerName) {
        String trimmed = headerName.endsWith("/") ? headerName.substring(0, headerName.length() - 1) : headerName;
        String base = trimmed.substring(trimmed.lastIndexOf('/') + 1);
        String name = "PaxHeaders.0/" + base;
        return name.length() > NAME_FIELD ? name.substring(0, NAME_FIELD) : name;
    }

    private static String paxTime(Instant t) {
        long sec = t.getEpochSecond();
        int nanos = t.getNano();
        if (nanos == 0) {
            return Long.toString(sec);
        }
        // PAX times are decimal seconds; negative times keep a positive fraction below the integer part.
        String frac = String.format("%09d", nanos).replaceAll("0+$", "");
        if (sec < 0) {
            return "-" + (-(sec + 1)) + "." + String.format("%09d", 1_000_000_000 - nanos).replaceAll("0+$", "");
        }
        return sec + "." + frac;
    }

    /** PAX records: {@code "<len> <key>=<value>\n"} where len counts the whole record in bytes. */
    static byte[] encodePax(Map<String, byte[]> records) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        records.forEach((key, value) -> {
            byte[] k = utf8(key);
            int rest = 1 + k.length + 1 + value.length + 1;
            int len = rest + Integer.toString(rest).length();
            if (Integer.toString(len).length() != Integer.toString(rest).length()) {
                len = rest + Integer.toString(len).length();
            }
            out.writeBytes(utf8(Integer.toString(len)));
            out.write(' ');
            out.writeBytes(k);
            out.write('=');
            out.writeBytes(value);
            out.write('\n');
        });
        return out.toByteArray();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Lets commons finish the archive without closing the caller's stream. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}
