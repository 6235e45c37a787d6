package dev.berth.snapshot.archive;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.GZIPOutputStream;

import com.github.luben.zstd.ZstdOutputStream;

/**
 * Writes tar layers byte by byte (ustar headers, PAX records with raw byte values, GNU long names), so
 * tests control exactly what the applier sees: binary xattrs, odd type flags, sparse maps, bad
 * checksums.
 */
final class TestTar {
    static final Instant DEFAULT_MTIME = Instant.parse("2020-01-02T03:04:05.123456789Z");

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private boolean gnuLongNames;

    static TestTar create() {
        return new TestTar();
    }

    /** Long names as GNU 'L'/'K' records instead of PAX path/linkpath. */
    TestTar gnuLongNames() {
        this.gnuLongNames = true;
        return this;
    }

    /** Attributes of one entry. */
    static final class Attrs {
        int mode = -1;
        long uid;
        long gid;
        String uname = "";
        String gname = "";
        Instant mtime = DEFAULT_MTIME;
        Instant atime;
        final Map<String, byte[]> pax = new LinkedHashMap<>();

        Attrs mode(int m) {
            this.mode = m;
            return this;
        }

        Attrs owner(long u, long g) {
            this.uid = u;
            this.gid = g;
            return this;
        }

        Attrs names(String u, String g) {
            this.uname = u;
            this.gname = g;
            return this;
        }

        Attrs mtime(Instant t) {
            this.mtime = t;
            return this;
        }

        Attrs atime(Instant t) {
            this.atime = t;
            return this;
        }

        Attrs xattr(String name, byte[] value) {
            pax.put("SCHILY.xattr." + name, value);
            return this;
        }

        Attrs xattr(String name, String value) {
            return xattr(name, value.getBytes(StandardCharsets.UTF_8));
        }

        Attrs pax(String key, String value) {
            pax.put(key, value.getBytes(StandardCharsets.UTF_8));
            return this;
        }
    }

    private static Attrs attrs(Consumer<Attrs> c) {
        Attrs a = new Attrs();
        if (c != null) {
            c.accept(a);
        }
        return a;
    }

    TestTar dir(String name) {
        return dir(name, null);
    }

    TestTar dir(String name, Consumer<Attrs> c) {
        Attrs a = attrs(c);
        return entry(name.endsWith("/") ? name : name + "/", '5', a.mode < 0 ? 0755 : a.mode, a, "", new byte[0], 0, 0);
    }

    TestTar file(String name, String content) {
        return file(name, content.getBytes(StandardCharsets.UTF_8), null);
    }

    TestTar file(String name, String content, Consumer<Attrs> c) {
        return file(name, content.getBytes(StandardCharsets.UTF_8), c);
    }

    TestTar file(String name, byte[] content, Consumer<Attrs> c) {
        Attrs a = attrs(c);
        return entry(name, '0', a.mode < 0 ? 0644 : a.mode, a, "", content, 0, 0);
    }

    TestTar symlink(String name, String target) {
        return symlink(name, target, null);
    }

    TestTar symlink(String name, String target, Consumer<Attrs> c) {
        Attrs a = attrs(c);
        return entry(name, '2', a.mode < 0 ? 0777 : a.mode, a, target, new byte[0], 0, 0);
    }

    TestTar hardlink(String name, String target) {
        return entry(name, '1', 0644, new Attrs(), target, new byte[0], 0, 0);
    }

    TestTar whiteout(String path) {
        int slash = path.lastIndexOf('/');
        String wh = slash < 0 ? ".wh." + path : path.substring(0, slash + 1) + ".wh." + path.substring(slash + 1);
        return file(wh, "");
    }

    TestTar opaque(String dir) {
        return file(dir.isEmpty() ? ".wh..wh..opq" : dir + "/.wh..wh..opq", "");
    }

    TestTar device(String name, char type, int major, int minor, Consumer<Attrs> c) {
        Attrs a = attrs(c);
        return entry(name, type, a.mode < 0 ? 0600 : a.mode, a, "", new byte[0], major, minor);
    }

    /** A raw entry. */
    TestTar entry(String name, char type, int mode, Attrs a, String link, byte[] content, int major, int minor) {
        Map<String, byte[]> pax = new LinkedHashMap<>(a.pax);
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        byte[] linkBytes = link.getBytes(StandardCharsets.UTF_8);
        String headerName = name;
        String headerLink = link;
        if (nameBytes.length > 100) {
            if (gnuLongNames) {
                writeGnuLong('L', nameBytes);
            } else {
                pax.put("path", nameBytes);
            }
            headerName = new String(nameBytes, 0, 100, StandardCharsets.ISO_8859_1);
        }
        if (linkBytes.length > 100) {
            if (gnuLongNames) {
                writeGnuLong('K', linkBytes);
            } else {
                pax.put("linkpath", linkBytes);
            }
            headerLink = "";
        }
        if (a.mtime.getNano() != 0) {
            pax.putIfAbsent("mtime", decimal(a.mtime));
        }
        if (a.atime != null) {
            pax.putIfAbsent("atime", decimal(a.atime));
        }
        if (a.uid > 07777777) {
            pax.put("uid", Long.toString(a.uid).getBytes(StandardCharsets.US_ASCII));
        }
        if (a.gid > 07777777) {
            pax.put("gid", Long.toString(a.gid).getBytes(StandardCharsets.US_ASCII));
        }
        if (!pax.isEmpty()) {
            byte[] records = paxRecords(pax);
            writeHeader("PaxHeaders/" + shortName(name), 'x', 0644, 0, 0, "", "", a.mtime.getEpochSecond(), "",
                    records.length, 0, 0);
            writePadded(records);
        }
        writeHeader(headerName, type, mode, Math.min(a.uid, 07777777), Math.min(a.gid, 07777777), a.uname, a.gname,
                a.mtime.getEpochSecond(), headerLink, content.length, major, minor);
        writePadded(content);
        return this;
    }

    /** Appends raw bytes (already 512-aligned where that matters). */
    TestTar raw(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    /** A header block, for crafting entries by hand. */
    static byte[] header(String name, char type, int mode, long size, String link) {
        TestTar t = new TestTar();
        t.writeHeader(name, type, mode, 0, 0, "", "", DEFAULT_MTIME.getEpochSecond(), link, size, 0, 0);
        return t.out.toByteArray();
    }

    static byte[] pad(byte[] data) {
        int padded = (data.length + 511) / 512 * 512;
        return java.util.Arrays.copyOf(data, padded);
    }

    static byte[] paxRecords(Map<String, byte[]> pax) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> e : pax.entrySet()) {
            byte[] key = e.getKey().getBytes(StandardCharsets.UTF_8);
            int body = 1 + key.length + 1 + e.getValue().length + 1; // ' ' key '=' value '\n'
            int len = body + 1;
            while (Integer.toString(len).length() + body != len) {
                len = Integer.toString(len).length() + body;
            }
            b.writeBytes(Integer.toString(len).getBytes(StandardCharsets.US_ASCII));
            b.write(' ');
            b.writeBytes(key);
            b.write('=');
            b.writeBytes(e.getValue());
            b.write('\n');
        }
        return b.toByteArray();
    }

    private static String shortName(String name) {
        String n = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
        n = n.substring(n.lastIndexOf('/') + 1);
        return n.length() > 80 ? n.substring(0, 80) : n;
    }

    private static byte[] decimal(Instant t) {
        return String.format("%d.%09d", t.getEpochSecond(), t.getNano()).getBytes(StandardCharsets.US_ASCII);
    }

    private void writeGnuLong(char type, byte[] value) {
        byte[] data = java.util.Arrays.copyOf(value, value.length + 1);
        writeHeader("././@LongLink", type, 0644, 0, 0, "", "", 0, "", data.length, 0, 0);
        writePadded(data);
    }

    private void writePadded(byte[] data) {
        out.writeBytes(pad(data));
    }

    private void writeHeader(String name, char type, int mode, long uid, long gid, String uname, String gname,
                             long mtime, String link, long size, int major, int minor) {
        byte[] h = new byte[512];
        put(h, 0, 100, name.getBytes(StandardCharsets.ISO_8859_1.newEncoder().canEncode(name)
                ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8));
        octal(h, 100, 8, mode);
        octal(h, 108, 8, uid);
        octal(h, 116, 8, gid);
        octal(h, 124, 12, size);
        octal(h, 136, 12, mtime);
        h[156] = (byte) type;
        put(h, 157, 100, link.getBytes(StandardCharsets.UTF_8));
        put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
        put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
        put(h, 265, 32, uname.getBytes(StandardCharsets.UTF_8));
        put(h, 297, 32, gname.getBytes(StandardCharsets.UTF_8));
        octal(h, 329, 8, major);
        octal(h, 337, 8, minor);
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        String cs = String.format("%06o", sum);
        put(h, 148, 6, cs.getBytes(StandardCharsets.US_ASCII));
        h[154] = 0;
        h[155] = ' ';
        out.writeBytes(h);
    }

    private static void put(byte[] h, int off, int len, byte[] v) {
        System.arraycopy(v, 0, h, off, Math.min(len, v.length));
    }

    private static void octal(byte[] h, int off, int len, long v) {
        String s = Long.toOctalString(v);
        while (s.length() < len - 1) {
            s = "0" + s;
        }
        put(h, off, len - 1, s.getBytes(StandardCharsets.US_ASCII));
    }

    /** The tar with its end marker. */
    byte[] bytes() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(out.toByteArray());
        b.writeBytes(new byte[1024]);
        return b.toByteArray();
    }

    /** The tar without end marker (as some writers produce). */
    byte[] bytesWithoutEnd() {
        return out.toByteArray();
    }

    byte[] gzip() {
        return gzip(bytes());
    }

    static byte[] gzip(byte[] data) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(b)) {
            g.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    byte[] zstd() {
        return zstd(bytes());
    }

    static byte[] zstd(byte[] data) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ZstdOutputStream z = new ZstdOutputStream(b)) {
            z.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }
}
