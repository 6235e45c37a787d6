package dev.berth.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/** Normalization, parsing and matcher implementations behind {@link Platform} and {@link PlatformMatcher}. */
final class PlatformSupport {
    private static final Pattern SPECIFIER_PART = Pattern.compile("[A-Za-z0-9_-]+");

    /** Go's GOOS values, which containerd accepts as a lone specifier. */
    private static final Set<String> KNOWN_OS = Set.of("aix", "android", "darwin", "dragonfly", "freebsd",
            "hurd", "illumos", "ios", "js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1",
            "windows", "zos");

    /** Go's GOARCH values. */
    private static final Set<String> KNOWN_ARCH = Set.of("386", "amd64", "amd64p32", "arm", "armbe", "arm64",
            "arm64be", "ppc64", "ppc64le", "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32",
            "mips64p32le", "ppc", "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm");

    private static volatile Platform host;

    private PlatformSupport() {
    }

    static Platform normalize(Platform p) {
        Objects.requireNonNull(p, "platform");
        String[] archVariant = normalizeArch(p.architecture(), p.variant());
        return new Platform(normalizeOs(p.os()), archVariant[0], archVariant[1], p.osVersion(), p.osFeatures());
    }

    static String normalizeOs(String os) {
        String lower = os.toLowerCase(Locale.ROOT);
        return lower.equals("macos") ? "darwin" : lower;
    }

    /** containerd's {@code normalizeArch}: returns {arch, variant}. */
    static String[] normalizeArch(String architecture, String variant) {
        String arch = architecture.toLowerCase(Locale.ROOT);
        String v = variant.toLowerCase(Locale.ROOT);
        switch (arch) {
            case "i386" -> {
                arch = "386";
                v = "";
            }
            case "x86_64", "x86-64", "amd64" -> {
                arch = "amd64";
                if (v.equals("v1")) {
                    v = "";
                }
            }
            case "aarch64", "arm64" -> {
                arch = "arm64";
                if (v.equals("8") || v.equals("v8")) {
                    v = "";
                }
            }
            case "armhf" -> {
                arch = "arm";
                v = "v7";
            }
            case "armel" -> {
                arch = "arm";
                v = "v6";
            }
            case "arm" -> {
                switch (v) {
                    case "", "7" -> v = "v7";
                    case "5", "6", "8" -> v = "v" + v;
                    default -> {
                    }
                }
            }
            default -> {
            }
        }
        return new String[] {arch, v};
    }

    static Platform parse(String specifier) {
        Objects.requireNonNull(specifier, "platform specifier");
        if (specifier.contains("*")) {
            throw new InvalidArgumentException("platform \"" + specifier + "\": wildcards are not supported");
        }
        String[] parts = specifier.split("/", -1);
        for (String part : parts) {
            if (!SPECIFIER_PART.matcher(part).matches()) {
                throw new InvalidArgumentException("platform \"" + specifier + "\": \"" + part
                        + "\" is not a valid component (expected os[/arch[/variant]] or arch[/variant],"
                        + " each matching [A-Za-z0-9_-]+)");
            }
        }
        switch (parts.length) {
            case 1 -> {
                String os = normalizeOs(parts[0]);
                if (KNOWN_OS.contains(os)) {
                    Platform h = host();
                    return new Platform(os, h.architecture(), h.variant());
                }
                String[] av = normalizeArch(parts[0], "");
                if (KNOWN_ARCH.contains(av[0])) {
                    return normalize(new Platform(host().os(), av[0], av[1]));
                }
                throw new InvalidArgumentException("platform \"" + specifier
                        + "\": unknown operating system or architecture");
            }
            case 2 -> {
                // containerd reads two parts as os/arch; we also accept arch/variant when the first part is
                // an architecture and not an os, as "arm/v7" is commonly written.
                String os = normalizeOs(parts[0]);
                String[] first = normalizeArch(parts[0], "");
                if (!KNOWN_OS.contains(os) && KNOWN_ARCH.contains(first[0])) {
                    return normalize(new Platform(host().os(), parts[0], parts[1]));
                }
                return normalize(new Platform(os, parts[1], ""));
            }
            case 3 -> {
                return normalize(new Platform(parts[0], parts[1], parts[2]));
            }
            default -> throw new InvalidArgumentException("platform \"" + specifier
                    + "\": expected os[/arch[/variant]] or arch[/variant]");
        }
    }

    static Platform host() {
        Platform h = host;
        if (h == null) {
            String arch = goArch(System.getProperty("os.arch", ""));
            String variant = arch.equals("arm") || arch.equals("arm64") ? cpuVariant(Path.of("/proc/cpuinfo")) : "";
            h = normalize(new Platform(goOs(System.getProperty("os.name", "")), arch, variant));
            host = h;
        }
        return h;
    }

    /** Maps the JVM's {@code os.name} to Go's GOOS. */
    static String goOs(String osName) {
        String n = osName.toLowerCase(Locale.ROOT);
        if (n.startsWith("linux")) {
            return "linux";
        }
        if (n.startsWith("mac") || n.startsWith("darwin")) {
            return "darwin";
        }
        if (n.startsWith("windows")) {
            return "windows";
        }
        if (n.startsWith("sunos") || n.startsWith("solaris")) {
            return "solaris";
        }
        return n.replaceAll("[^a-z0-9]", "");
    }

    /** Maps the JVM's {@code os.arch} to Go's GOARCH. */
    static String goArch(String osArch) {
        String a = osArch.toLowerCase(Locale.ROOT);
        return switch (a) {
            case "amd64", "x86_64", "x86-64" -> "amd64";
            case "x86", "i386", "i486", "i586", "i686" -> "386";
            case "aarch64", "arm64" -> "arm64";
            case "arm", "arm32", "armv7l", "armv6l", "aarch32" -> "arm";
            case "ppc64le", "ppc64el" -> "ppc64le";
            case "ppc64" -> "ppc64";
            case "s390x" -> "s390x";
            case "riscv64" -> "riscv64";
            case "loongarch64" -> "loong64";
            case "mips64el" -> "mips64le";
            default -> a;
        };
    }

    /**
     * The ARM variant from {@code CPU architecture} in /proc/cpuinfo, as containerd's {@code cpuVariant}
     * (with its Raspberry Pi ARMv6 quirk); empty when it cannot be read.
     */
    static String cpuVariant(Path cpuinfo) {
        String text;
        try {
            text = Files.readString(cpuinfo, StandardCharsets.ISO_8859_1);
        } catch (IOException | SecurityException e) {
            return "";
        }
        return cpuVariantOf(text);
    }

    static String cpuVariantOf(String cpuinfo) {
        String arch = cpuinfoValue(cpuinfo, "cpu architecture");
        String model = cpuinfoValue(cpuinfo, "model name");
        if (model != null && model.toLowerCase(Locale.ROOT).contains("armv6-compatible")) {
            arch = "6";
        }
        if (arch == null) {
            return "";
        }
        return switch (arch.toLowerCase(Locale.ROOT)) {
            case "8", "aarch64" -> "v8";
            case "7", "7m", "?(12)", "?(13)", "?(14)", "?(15)", "?(16)", "?(17)" -> "v7";
            case "6", "6tej" -> "v6";
            case "5", "5t", "5te", "5tej" -> "v5";
            case "4", "4t" -> "v4";
            case "3" -> "v3";
            default -> "";
        };
    }

    private static String cpuinfoValue(String cpuinfo, String key) {
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(key)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    /**
     * The platform followed by what it can also run, best first: amd64/vN → vN-1 … v1, then 386;
     * arm/vN → vN-1 … v5; arm64 → arm/v8 … v5.
     */
    static List<Platform> compatibilityVector(Platform platform) {
        Platform p = normalize(platform);
        List<Platform> vector = new ArrayList<>();
        vector.add(p);
        switch (p.architecture()) {
            case "amd64" -> {
                int level = variantLevel(p.variant());
                for (int v = level - 1; v >= 1; v--) {
                    vector.add(new Platform(p.os(), "amd64", v == 1 ? "" : "v" + v));
                }
                vector.add(new Platform(p.os(), "386"));
            }
            case "arm" -> {
                int level = variantLevel(p.variant());
                for (int v = level - 1; v >= 5; v--) {
                    vector.add(new Platform(p.os(), "arm", "v" + v));
                }
            }
            case "arm64" -> {
                String variant = p.variant().isEmpty() ? "v8" : p.variant();
                vector.addAll(compatibilityVector(new Platform(p.os(), "arm", variant)));
            }
            default -> {
            }
        }
        return List.copyOf(vector);
    }

    private static int variantLevel(String variant) {
        if (variant.length() < 2 || variant.charAt(0) != 'v') {
            return -1;
        }
        try {
            return Integer.parseInt(variant.substring(1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static PlatformMatcher only(Platform p) {
        Objects.requireNonNull(p, "platform");
        return new Ordered(compatibilityVector(p), "only(" + normalize(p) + ")");
    }

    static PlatformMatcher onlyStrict(Platform p) {
        Objects.requireNonNull(p, "platform");
        return new Ordered(List.of(normalize(p)), "onlyStrict(" + normalize(p) + ")");
    }

    static PlatformMatcher any(Platform... ps) {
        Objects.requireNonNull(ps, "platforms");
        List<Platform> list = Arrays.stream(ps).map(p -> normalize(Objects.requireNonNull(p, "platform"))).toList();
        return new Ordered(list, "any" + list);
    }

    static PlatformMatcher all() {
        return All.INSTANCE;
    }

    /**
     * Matches any of {@code preference} (normalized); a platform matched by an earlier entry is better.
     * Non-matching platforms sort after all matching ones.
     */
    private record Ordered(List<Platform> preference, String description) implements PlatformMatcher {
        @Override
        public boolean matches(Platform platform) {
            return rank(platform) < preference.size();
        }

        @Override
        public int compare(Platform a, Platform b) {
            return Integer.compare(rank(a), rank(b));
        }

        private int rank(Platform platform) {
            Objects.requireNonNull(platform, "platform");
            Platform n = normalize(platform);
            for (int i = 0; i < preference.size(); i++) {
                Platform want = preference.get(i);
                if (want.os().equals(n.os()) && want.architecture().equals(n.architecture())
                        && want.variant().equals(n.variant())) {
                    return i;
                }
            }
            return preference.size();
        }

        @Override
        public String toString() {
            return description;
        }
    }

    private enum All implements PlatformMatcher {
        INSTANCE;

        @Override
        public boolean matches(Platform platform) {
            Objects.requireNonNull(platform, "platform");
            return true;
        }

        @Override
        public int compare(Platform a, Platform b) {
            return 0;
        }

        @Override
        public String toString() {
            return "all";
        }
    }
}
