package dev.berth.bench.tc;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * Workload (b) of issue 18, {@code tc-first}: a fresh JVM until its first listening container is ready
 * (JVM start, the side's setup, the container and its wait), alternating the sides, {@code rounds} pairs
 * after one warm-up pair. Each child is {@link FirstContainer} with this JVM's class path and its
 * {@code bench.*}, {@code api.version} and {@code org.slf4j.*} system properties. Usage: {@code
 * FreshJvmBench <rounds> <side>...}; prints {@code BENCH tc-first <side> <seconds>} lines, and {@code BENCH
 * tc-first-cpu <side> <seconds>} with the child's process CPU at that moment. With {@code bench.abSwitch}
 * (see {@link TestcontainersBench}) each Berth side is followed by a child with those properties set, side
 * {@code <side>-ab}.
 *
 * <p>{@code bench.tc.variants} (comma-separated, with {@code bench.tc.work} a scratch directory) adds, after
 * each side's child, children that say what the JVM alone costs, in the same rounds:
 * <ul>
 * <li>{@code floor}: {@link ClassFloor} on the classes that side's warm-up child loaded and initialised (no
 *     container), {@code floorload} the same without initialising them, {@code jvm} the JVM alone;
 * <li>{@code jars}: the side with every class path directory packed into a jar (same order);
 * <li>{@code cds}: the same jar-only class path with a JDK 17 dynamic CDS archive, dumped by the warm-up child
 *     ({@code -XX:ArchiveClassesAtExit}) and mapped by the measured ones ({@code -XX:SharedArchiveFile});
 * <li>{@code cdslast}: the archive with the jars first and the directories after them (the order a
 *     test JVM would need for JDK 17 to accept an archive with non-empty directories on the class path).
 * <li>{@code loader}: the side's class path (directories first) in a class loader of its own, the JVM's class
 *     path being {@link IsolatedLauncher}'s jar alone (Surefire's {@code useSystemClassLoader=false}), and
 *     {@code cdsloader} the same with a dynamic CDS archive.
 * </ul>
 */
public final class FreshJvmBench {
    private static final List<String> VARIANTS = List.of(System.getProperty("bench.tc.variants", "").split(","))
            .stream().filter(v -> !v.isBlank()).toList();
    private static final Path WORK = Path.of(System.getProperty("bench.tc.work", "/var/tmp/berth-bench-fresh-jvm"));

    private FreshJvmBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = Integer.parseInt(args[0]);
        List<String> sides = new ArrayList<>();
        for (String side : List.of(args).subList(1, args.length)) {
            sides.add(side);
            if (!TestcontainersBench.AB_SWITCHES.isEmpty() && side.startsWith("berth")) {
                sides.add(side + "-ab");   // the same child with bench.abSwitch's properties set
            }
            for (String v : VARIANTS) {
                sides.add(side + "~" + v);
            }
        }
        if (!VARIANTS.isEmpty()) {
            Files.createDirectories(WORK);
        }
        String cp = System.getProperty("java.class.path");
        String jarCp = VARIANTS.stream().anyMatch(v -> v.startsWith("jars") || v.startsWith("cds")) ? jarOnly(cp, false) : cp;
        String jarFirstCp = VARIANTS.contains("cdslast") ? jarOnly(cp, true) : cp;
        // with variants, a first unlogged round of the sides themselves: the logged warm-up that the floors replay
        // then finds what a measured child finds (the image already in the root, no import)
        for (int round = VARIANTS.isEmpty() ? 0 : -1; round <= rounds; round++) {
            for (String side : sides) {
                if (round < 0 && (side.contains("~") || side.endsWith("-ab"))) {
                    continue;
                }
                double[] r;
                try {
                    r = firstContainer(side, round == 0, cp, jarCp, jarFirstCp);
                } catch (IllegalStateException e) {
                    if (!side.contains("~")) {
                        throw e;
                    }
                    System.out.println("tc-first " + side + " left out: " + e.getMessage());   // a variant only
                    continue;
                }
                if (round > 0) {
                    System.out.printf("BENCH tc-first %s %.6f%n", side, r[0]);
                    System.out.printf("BENCH tc-first-cpu %s %.6f%n", side, r[1]);
                    System.out.flush();
                }
            }
        }
    }

    /** {@code cp} with its directories packed into jars under the work directory; with {@code dirsLast} the
     * directories stay directories but come after every jar. */
    private static String jarOnly(String cp, boolean dirsLast) throws IOException {
        List<String> jars = new ArrayList<>();
        List<String> dirs = new ArrayList<>();
        int n = 0;
        for (String entry : cp.split(File.pathSeparator)) {
            Path p = Path.of(entry);
            if (!Files.isDirectory(p)) {
                jars.add(entry);
            } else if (dirsLast) {
                dirs.add(entry);
            } else {
                Path jar = WORK.resolve("cp-" + (n++) + "-" + p.getParent().getParent().getFileName() + ".jar");
                pack(p, jar);
                jars.add(jar.toString());
            }
        }
        jars.addAll(dirs);
        return String.join(File.pathSeparator, jars);
    }

    private static void pack(Path dir, Path jar) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out);
             Stream<Path> files = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                String name = dir.relativize(f).toString().replace(File.separatorChar, '/');
                if (name.isEmpty()) {
                    continue;
                }
                if (Files.isDirectory(f)) {
                    j.putNextEntry(new JarEntry(name + "/"));
                } else {
                    j.putNextEntry(new JarEntry(name));
                    Files.copy(f, j);
                }
                j.closeEntry();
            }
        }
    }

    /** A jar holding {@link IsolatedLauncher} alone. */
    private static Path launcherJar() throws IOException {
        Path jar = WORK.resolve("launcher.jar");
        if (!Files.exists(jar)) {
            String entry = IsolatedLauncher.class.getName().replace('.', '/') + ".class";
            try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out);
                 var in = IsolatedLauncher.class.getClassLoader().getResourceAsStream(entry)) {
                j.putNextEntry(new JarEntry(entry));
                in.transferTo(j);
                j.closeEntry();
            }
        }
        return jar;
    }

    /** Seconds to READY and the child's process CPU then. */
    private static double[] firstContainer(String side, boolean warmUp, String cp, String jarCp, String jarFirstCp)
            throws Exception {
        String variant = side.contains("~") ? side.substring(side.indexOf('~') + 1) : "";
        String base = side.contains("~") ? side.substring(0, side.indexOf('~')) : side;
        boolean ab = base.endsWith("-ab");
        String sideName = ab ? base.substring(0, base.length() - 3) : base;
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (Map.Entry<Object, Object> p : System.getProperties().entrySet()) {
            String key = p.getKey().toString();
            if (key.startsWith("bench.") || key.equals("api.version") || key.startsWith("org.slf4j.")) {
                cmd.add("-D" + key + "=" + p.getValue());
            }
        }
        if (ab) {
            TestcontainersBench.AB_SWITCHES.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        }
        Path classes = WORK.resolve(sideName + ".classes");
        String classPath = cp;
        String main = FirstContainer.class.getName();
        List<String> mainArgs = List.of(sideName);
        switch (variant) {
            case "" -> {
                if (warmUp && !VARIANTS.isEmpty() && !ab) {
                    cmd.add("-Xlog:class+load=info,class+init=info:file=" + classes + ":none");
                }
            }
            case "floor", "floorload", "jvm" -> {
                main = ClassFloor.class.getName();
                mainArgs = List.of(classes.toString(), variant.equals("floor") ? "init" : variant.equals("jvm") ? "none" : "load");
            }
            case "jars" -> classPath = jarCp;
            case "cds", "cdslast" -> {
                classPath = variant.equals("cds") ? jarCp : jarFirstCp;
                Path archive = WORK.resolve(sideName + "-" + variant + ".jsa");
                cmd.add(warmUp ? "-XX:ArchiveClassesAtExit=" + archive : "-XX:SharedArchiveFile=" + archive);
                cmd.add("-Xshare:auto");
            }
            case "loader", "cdsloader" -> {
                classPath = launcherJar().toString();
                main = IsolatedLauncher.class.getName();
                mainArgs = List.of(cp, FirstContainer.class.getName(), sideName);
                if (variant.equals("cdsloader")) {
                    Path archive = WORK.resolve(sideName + "-" + variant + ".jsa");
                    cmd.add(warmUp ? "-XX:ArchiveClassesAtExit=" + archive : "-XX:SharedArchiveFile=" + archive);
                }
            }
            default -> throw new IllegalArgumentException("unknown variant " + variant
                    + ": floor, floorload, jvm, jars, cds, cdslast, loader, cdsloader");
        }
        cmd.addAll(List.of("-cp", classPath, main));
        cmd.addAll(mainArgs);
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        p.getOutputStream().close();
        long ready = -1;
        double cpu = -1;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith("READY") && ready < 0) {
                    ready = System.nanoTime();
                    String[] f = line.split(" ");
                    cpu = f.length > 2 ? Double.parseDouble(f[2]) : -1;
                    if (variant.startsWith("floor") && warmUp) {
                        System.out.println("tc-first " + side + ": " + f[1] + " classes loaded by name");
                    }
                } else if (line.contains("CDS") || line.contains("archive") || line.contains("shared")) {
                    System.out.println("tc-first " + side + ": " + line);
                }
            }
        }
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0 || ready < 0) {
            p.destroyForcibly();
            throw new IllegalStateException("the " + side + " child JVM failed (exit "
                    + (p.isAlive() ? "none" : p.exitValue()) + ", ready " + (ready >= 0) + ")");
        }
        return new double[] {(ready - t0) / 1e9, cpu};
    }
}
