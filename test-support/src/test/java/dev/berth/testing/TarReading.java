package dev.berth.testing;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/** Reads tars back in tests: through commons-compress, and raw (headers and PAX records byte by byte). */
final class TarReading {
    private TarReading() {
    }

    record Read(TarArchiveEntry entry, byte[] content) {
    }

    static List<Read> read(byte[] tar) throws IOException {
        List<Read> out = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                out.add(new Read(e, in.readAllBytes()));
            }
        }
        return out;
    }

    static Map<String, byte[]> readFiles(InputStream tarStream) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        TarArchiveInputStream in = new TarArchiveInputStream(tarStream);
        for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
            out.put(e.getName(), e.isSymbolicLink() ? ("-> " + e.getLinkName()).getBytes(StandardCharsets.UTF_8)
                    : in.readAllBytes());
        }
        return out;
    }

    /** A raw header: type flag, name field, and the data block that follows. */
    record RawHeader(char type, String name, byte[] data) {
    }

    static List<RawHeader> rawHeaders(byte[] tar) {
        List<RawHeader> out = new ArrayList<>();
        int pos = 0;
        while (pos + 512 <= tar.length) {
            byte[] block = Arrays.copyOfRange(tar, pos, pos + 512);
            boolean zero = true;
            for (byte b : block) {
                zero &= b == 0;
            }
            if (zero) {
                break;
            }
            String name = cstring(block, 0, 100);
            long size = Long.parseLong(cstring(block, 124, 12).trim(), 8);
            char type = (char) block[156];
            byte[] data = Arrays.copyOfRange(tar, pos + 512, pos + 512 + (int) size);
            out.add(new RawHeader(type, name, data));
            pos += 512 + (int) ((size + 511) / 512 * 512);
        }
        return out;
    }

    /** The PAX records of a pax header's data, values as raw bytes. */
    static Map<String, byte[]> paxRecords(byte[] data) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        int pos = 0;
        while (pos < data.length) {
            int space = indexOf(data, (byte) ' ', pos);
            int len = Integer.parseInt(new String(data, pos, space - pos, StandardCharsets.US_ASCII));
            int eq = indexOf(data, (byte) '=', space);
            String key = new String(data, space + 1, eq - space - 1, StandardCharsets.UTF_8);
            out.put(key, Arrays.copyOfRange(data, eq + 1, pos + len - 1));
            if (data[pos + len - 1] != '\n') {
                throw new IllegalStateException("PAX record for " + key + " has a wrong length");
            }
            pos += len;
        }
        return out;
    }

    private static int indexOf(byte[] a, byte b, int from) {
        for (int i = from; i < a.length; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        throw new IllegalStateException("no " + (char) b);
    }

    private static String cstring(byte[] block, int off, int len) {
        int end = off;
        while (end < off + len && block[end] != 0) {
            end++;
        }
        return new String(block, off, end - off, StandardCharsets.UTF_8);
    }
}
