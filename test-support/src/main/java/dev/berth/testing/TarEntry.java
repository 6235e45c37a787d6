package dev.berth.testing;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One tar entry exactly as it will be written: the name, type flag, mode and link name are not
 * cleaned or checked, so tests can write hostile entries ({@code ../x}, {@code /etc/passwd}, a file
 * below a symlink, duplicates, odd type flags).
 *
 * <p>Start from a factory ({@link #file}, {@link #dir}, {@link #symlink}, ...) and adjust with the
 * {@code with*} methods, each of which returns a new entry. Factories use {@link #DEFAULT_MTIME},
 * owner 0:0, empty user/group names and conventional modes (files 0644, dirs 0755, symlinks 0777).
 *
 * <p>{@code content} is not copied: do not modify the array after handing it over. Equality of the
 * record compares {@code content} and xattr values by identity.
 *
 * @param name        the header name, verbatim (directories conventionally end in {@code /})
 * @param typeFlag    the tar type flag, e.g. {@code '0'} regular, {@code '5'} directory
 * @param content     the entry's data (empty for everything but regular files)
 * @param mode        the header mode, verbatim (normally only permission bits incl. setuid/setgid/sticky)
 * @param linkName    symlink or hardlink target, verbatim; empty otherwise
 * @param xattrs      extended attributes, written byte-exact as PAX {@code SCHILY.xattr.<name>} records
 * @param paxRecords  further PAX records written verbatim (after the ones the writer needs itself)
 */
public record TarEntry(String name, char typeFlag, byte[] content, int mode, long uid, long gid,
                       String userName, String groupName, Instant mtime, String linkName,
                       int devMajor, int devMinor, Map<String, byte[]> xattrs,
                       Map<String, String> paxRecords) {

    /** The modification time every factory uses, so layers built twice have the same digest. */
    public static final Instant DEFAULT_MTIME = Instant.parse("2024-01-01T00:00:00Z");

    public static final char REGULAR = '0';
    public static final char HARDLINK = '1';
    public static final char SYMLINK = '2';
    public static final char CHAR_DEVICE = '3';
    public static final char BLOCK_DEVICE = '4';
    public static final char DIRECTORY = '5';
    public static final char FIFO = '6';

    /** Prefix of a whiteout entry's base name. */
    public static final String WHITEOUT_PREFIX = ".wh.";
    /** Base name of the entry that makes its directory opaque. */
    public static final String OPAQUE_MARKER = ".wh..wh..opq";

    public TarEntry {
        Objects.requireNonNull(name, "name");
        content = content == null ? new byte[0] : content;
        userName = userName == null ? "" : userName;
        groupName = groupName == null ? "" : groupName;
        Objects.requireNonNull(mtime, "mtime");
        linkName = linkName == null ? "" : linkName;
        xattrs = xattrs == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(xattrs));
        paxRecords = paxRecords == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(paxRecords));
        if (content.length > 0 && typeFlag != REGULAR && typeFlag != '\0'
                && typeFlag != '7') {
            throw new IllegalArgumentException("tar entry " + name + " of type '" + typeFlag
                    + "' cannot carry content");
        }
    }

    private static TarEntry of(String name, char type, byte[] content, int mode, String linkName) {
        return new TarEntry(name, type, content, mode, 0, 0, "", "", DEFAULT_MTIME, linkName, 0, 0,
                Map.of(), Map.of());
    }

    /** A regular file with mode 0644. */
    public static TarEntry file(String name, byte[] content) {
        return of(name, REGULAR, Objects.requireNonNull(content, "content"), 0644, "");
    }

    /** A regular file holding {@code content} in UTF-8, mode 0644. */
    public static TarEntry file(String name, String content) {
        return file(name, content.getBytes(StandardCharsets.UTF_8));
    }

    /** A directory with mode 0755; a trailing {@code /} is added to {@code name} if missing. */
    public static TarEntry dir(String name) {
        return of(name.endsWith("/") ? name : name + "/", DIRECTORY, null, 0755, "");
    }

    /** A symbolic link (mode 0777) whose target is stored verbatim. */
    public static TarEntry symlink(String name, String target) {
        return of(name, SYMLINK, null, 0777, Objects.requireNonNull(target, "target"));
    }

    /** A hard link to {@code target}, the name of an earlier entry in the same archive. */
    public static TarEntry hardlink(String name, String target) {
        return of(name, HARDLINK, null, 0644, Objects.requireNonNull(target, "target"));
    }

    /** A character device (mode 0666). */
    public static TarEntry charDevice(String name, int major, int minor) {
        return of(name, CHAR_DEVICE, null, 0666, "").withDevice(major, minor);
    }

    /** A block device (mode 0660). */
    public static TarEntry blockDevice(String name, int major, int minor) {
        return of(name, BLOCK_DEVICE, null, 0660, "").withDevice(major, minor);
    }

    /** A named pipe (mode 0644). */
    public static TarEntry fifo(String name) {
        return of(name, FIFO, null, 0644, "");
    }

    /**
     * The whiteout deleting {@code path} from lower layers: an empty file named
     * {@code <parent>/.wh.<base>}. {@code path} is used as given apart from trailing slashes.
     */
    public static TarEntry whiteout(String path) {
        String p = stripTrailingSlashes(path);
        int slash = p.lastIndexOf('/');
        String whiteout = slash < 0 ? WHITEOUT_PREFIX + p
                : p.substring(0, slash + 1) + WHITEOUT_PREFIX + p.substring(slash + 1);
        return of(whiteout, REGULAR, null, 0644, "");
    }

    /** The marker making directory {@code dir} opaque: an empty file {@code <dir>/.wh..wh..opq}. */
    public static TarEntry opaque(String dir) {
        String d = stripTrailingSlashes(dir);
        return of(d.isEmpty() ? OPAQUE_MARKER : d + "/" + OPAQUE_MARKER, REGULAR, null, 0644, "");
    }

    private static String stripTrailingSlashes(String path) {
        String p = Objects.requireNonNull(path, "path");
        while (p.endsWith("/") && p.length() > 1) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    public TarEntry withName(String newName) {
        return new TarEntry(newName, typeFlag, content, mode, uid, gid, userName, groupName, mtime, linkName,
                devMajor, devMinor, xattrs, paxRecords);
    }

    /** The same entry with another type flag, for entries no factory makes (e.g. {@code '\0'}, {@code 'g'}). */
    public TarEntry withTypeFlag(char newTypeFlag) {
        return new TarEntry(name, newTypeFlag, content, mode, uid, gid, userName, groupName, mtime, linkName,
                devMajor, devMinor, xattrs, paxRecords);
    }

    public TarEntry withContent(byte[] newContent) {
        return new TarEntry(name, typeFlag, newContent, mode, uid, gid, userName, groupName, mtime, linkName,
                devMajor, devMinor, xattrs, paxRecords);
    }

    /** The same entry with another header mode, e.g. {@code 04755} for a setuid binary. */
    public TarEntry withMode(int newMode) {
        return new TarEntry(name, typeFlag, content, newMode, uid, gid, userName, groupName, mtime, linkName,
                devMajor, devMinor, xattrs, paxRecords);
    }

    /** The same entry owned by {@code uid:gid}; ids too large for the ustar header go into PAX records. */
    public TarEntry withOwner(long newUid, long newGid) {
        return new TarEntry(name, typeFlag, content, mode, newUid, newGid, userName, groupName, mtime, linkName,
                devMajor, devMinor, xattrs, paxRecords);
    }

    public TarEntry withOwnerNames(String newUserName, String newGroupName) {
        return new TarEntry(name, typeFlag, content, mode, uid, gid, newUserName, newGroupName, mtime, linkName,
                devMajor, devMinor, xattrs, paxRecords);
    }

    /** The same entry with another mtime; a fractional second is written as a PAX {@code mtime} record. */
    public TarEntry withMtime(Instant newMtime) {
        return new TarEntry(name, typeFlag, content, mode, uid, gid, userName, groupName, newMtime, linkName,
                devMajor, devMinor, xattrs, paxRecords);
    }

    public TarEntry withLinkName(String newLinkName) {
        return new TarEntry(name, typeFlag, content, mode, uid, gid, userName, groupName, mtime, newLinkName,
                devMajor, devMinor, xattrs, paxRecords);
    }

    public TarEntry withDevice(int major, int minor) {
        return new TarEntry(name, typeFlag, content, mode, uid, gid, userName, groupName, mtime, linkName,
                major, minor, xattrs, paxRecords);
    }

    /** The same entry with one more extended attribute (e.g. {@code security.capability}), byte-exact. */
    public TarEntry withXattr(String xattrName, byte[] value) {
        Map<String, byte[]> copy = new TreeMap<>(xattrs);
        copy.put(Objects.requireNonNull(xattrName, "xattrName"), Objects.requireNonNull(value, "value").clone());
        return new TarEntry(name, typeFlag, content, mode, uid, gid, userName, groupName, mtime, linkName,
                devMajor, devMinor, copy, paxRecords);
    }

    /** The same entry with one more extended attribute holding {@code value} in UTF-8. */
    public TarEntry withXattr(String xattrName, String value) {
        return withXattr(xattrName, value.getBytes(StandardCharsets.UTF_8));
    }

    /** The same entry with one more PAX record, written verbatim (may override what the writer derives). */
    public TarEntry withPaxRecord(String key, String value) {
        Map<String, String> copy = new TreeMap<>(paxRecords);
        copy.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return new TarEntry(name, typeFlag, content, mode, uid, gid, userName, groupName, mtime, linkName,
                devMajor, devMinor, xattrs, copy);
    }

    public boolean isDirectory() {
        return typeFlag == DIRECTORY;
    }

    @Override
    public String toString() {
        return "TarEntry[" + name + " type=" + typeFlag + " mode=0" + Integer.toOctalString(mode)
                + " " + uid + ":" + gid + (linkName.isEmpty() ? "" : " -> " + linkName)
                + (content.length > 0 ? " " + content.length + " bytes" : "")
                + (xattrs.isEmpty() ? "" : " xattrs=" + xattrs.keySet()) + "]";
    }
}
