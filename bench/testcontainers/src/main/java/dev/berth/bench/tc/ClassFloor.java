package dev.berth.bench.tc;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The class floor of a fresh JVM's first container: loads, in their order, the classes a real {@link
 * FirstContainer} run loaded, and initialises those that run initialised (its {@code -Xlog:class+load,class+init}
 * file), starts no container, and prints {@code READY <loaded> <process CPU seconds>}. Classes that cannot be
 * named (lambda, method-handle and other hidden classes, generated classes) are skipped; a class whose
 * initialiser fails still counts as loaded. Usage: {@code ClassFloor <log> [load|none]} ({@code load}: load
 * without initialising; {@code none}: nothing, the JVM's own start). With {@code -Dbench.tc.floorReport=true}
 * the wall time spent per class path entry goes to stderr.
 */
public final class ClassFloor {
    private ClassFloor() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 1 ? args[1] : "init";
        int loaded = 0;
        if (!mode.equals("none")) {
            List<String> lines = Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8);
            Set<String> initialised = new HashSet<>();
            for (String line : lines) {
                int at = line.indexOf(" Initializing '");
                if (at >= 0) {
                    int from = at + " Initializing '".length();
                    initialised.add(line.substring(from, line.indexOf('\'', from)).replace('/', '.'));
                }
            }
            boolean report = Boolean.getBoolean("bench.tc.floorReport");
            Map<String, long[]> bySource = new TreeMap<>();
            ClassLoader loader = ClassFloor.class.getClassLoader();
            for (String line : lines) {
                if (line.contains(" Initializing '") || line.contains(" verification ")) {
                    continue;
                }
                int space = line.indexOf(' ');
                String name = space < 0 ? line : line.substring(0, space);
                if (name.isEmpty() || name.indexOf('/') >= 0 || name.contains("$$Lambda")) {
                    continue;
                }
                long t0 = report ? System.nanoTime() : 0;
                Class<?> c = null;
                try {
                    c = Class.forName(name, mode.equals("init") && initialised.contains(name), loader);
                    loaded++;
                } catch (ExceptionInInitializerError e) {
                    loaded++;
                } catch (Throwable e) {
                    // generated at run time (jnr-ffi stubs, proxies): not loadable by name
                }
                if (report) {
                    long[] sum = bySource.computeIfAbsent(source(c), k -> new long[2]);
                    sum[0] += System.nanoTime() - t0;
                    sum[1]++;
                }
            }
            if (report) {
                bySource.forEach((src, s) -> System.err.printf("floor-source %s %d classes %.1f ms%n", src, s[1], s[0] / 1e6));
            }
        }
        System.out.println("READY " + loaded + " " + ProcCpu.seconds());
        System.out.flush();
        System.exit(0);
    }

    private static String source(Class<?> c) {
        if (c == null) {
            return "(not loadable)";
        }
        CodeSource cs = c.getProtectionDomain().getCodeSource();
        if (cs == null || cs.getLocation() == null) {
            return "(jdk)";
        }
        String loc = cs.getLocation().getPath();
        if (loc.endsWith("/target/classes/")) {
            return "berth:" + Path.of(loc).getParent().getParent().getFileName();
        }
        return Path.of(loc).getFileName().toString().replaceAll("-[0-9][0-9.]*.*\\.jar$", "");
    }
}
