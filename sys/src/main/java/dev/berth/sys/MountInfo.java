package dev.berth.sys;

import dev.berth.api.IoFailureException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The mount table of this process's mount namespace, from {@code /proc/self/mountinfo}. */
public final class MountInfo {
    private static final Path SELF = Path.of("/proc/self/mountinfo");

    /** One line: the mount point and its file system type, unescaped. */
    public record Entry(int id, int parentId, Path mountPoint, String fsType, String source) {
    }

    private MountInfo() {
    }

    /** Every mount of this namespace, in the kernel's order (parents before what is mounted on them). */
    public static List<Entry> read() {
        try {
            return parse(Files.readAllLines(SELF));
        } catch (IOException e) {
            throw IoFailureException.of("cannot read " + SELF, e);
        }
    }

    /** Parses mountinfo lines; a line that is not in mountinfo's format is skipped. */
    static List<Entry> parse(List<String> lines) {
        List<Entry> out = new ArrayList<>();
        for (String line : lines) {
            // id parent major:minor root mount-point options [optional fields...] - fstype source super-options
            String[] f = line.split(" ");
            int dash = -1;
            for (int i = 6; i < f.length; i++) {
                if (f[i].equals("-")) {
                    dash = i;
                    break;
                }
            }
            if (f.length < 5) {
                continue;
            }
            try {
                out.add(new Entry(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Path.of(unescape(f[4])),
                        dash > 0 && dash + 1 < f.length ? unescape(f[dash + 1]) : "",
                        dash > 0 && dash + 2 < f.length ? unescape(f[dash + 2]) : ""));
            } catch (NumberFormatException e) {
                // not a mountinfo line
            }
        }
        return out;
    }

    /**
     * Off ({@code -Dberth.sys.mountinfoPrefilter=false}): every line of mountinfo is parsed when a caller asks
     * about one directory, instead of only the lines that contain its path (a node's mount table has a few
     * mounts per running container; a pod's removal asks several times).
     */
    public static final boolean PREFILTER = Boolean.parseBoolean(
            System.getProperty("berth.sys.mountinfoPrefilter", "true"));

    /** Mount points at or below {@code dir} (made absolute and normalized), deepest first. */
    public static List<Path> mountPointsUnder(Path dir) {
        String needle = dir.toAbsolutePath().normalize().toString();
        List<String> lines;
        try {
            lines = Files.readAllLines(SELF);
        } catch (IOException e) {
            throw IoFailureException.of("cannot read " + SELF, e);
        }
        if (PREFILTER && survivesEscaping(needle, " \t\n\\")) {
            lines = lines.stream().filter(l -> l.contains(needle)).toList();
        }
        return under(parse(lines), dir);
    }

    /**
     * Whether {@code path} contains none of the characters mountinfo escapes in a field ({@code escaped}):
     * then a line naming a path that starts with it contains it as written, and a line that does not
     * contain it cannot name such a path.
     */
    public static boolean survivesEscaping(String path, String escaped) {
        for (int i = 0; i < path.length(); i++) {
            if (escaped.indexOf(path.charAt(i)) >= 0) {
                return false;
            }
        }
        return true;
    }

    static List<Path> under(List<Entry> entries, Path dir) {
        Path base = dir.toAbsolutePath().normalize();
        List<Path> out = new ArrayList<>();
        for (Entry e : entries) {
            if (e.mountPoint().startsWith(base)) {
                out.add(e.mountPoint());
            }
        }
        out.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        return out;
    }

    /** mountinfo writes space, tab, newline and backslash as a backslash and three octal digits. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\\' && isOctal(s, i + 1)) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(ch);
            }
        }
        return sb.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '7') {
                return false;
            }
        }
        return true;
    }
}
