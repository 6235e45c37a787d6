package dev.berth.bench.tc;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Workload (b) of issue 18, {@code tc-first}: a fresh JVM until its first listening container is ready
 * (JVM start, the side's setup, the container and its wait), alternating the sides, {@code rounds} pairs
 * after one warm-up pair. Each child is {@link FirstContainer} with this JVM's class path and its
 * {@code bench.*}, {@code api.version} and {@code org.slf4j.*} system properties. Usage: {@code
 * FreshJvmBench <rounds> <side>...}; prints {@code BENCH tc-first <side> <seconds>} lines. With {@code
 * bench.abSwitch} (see {@link TestcontainersBench}) each Berth side is followed by a child with those properties
 * set, side {@code <side>-ab}.
 */
public final class FreshJvmBench {
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
        }
        for (int round = 0; round <= rounds; round++) {
            for (String side : sides) {
                double seconds = firstContainer(side);
                if (round > 0) {
                    System.out.printf("BENCH tc-first %s %.6f%n", side, seconds);
                    System.out.flush();
                }
            }
        }
    }

    private static double firstContainer(String side) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (Map.Entry<Object, Object> p : System.getProperties().entrySet()) {
            String key = p.getKey().toString();
            if (key.startsWith("bench.") || key.equals("api.version") || key.startsWith("org.slf4j.")) {
                cmd.add("-D" + key + "=" + p.getValue());
            }
        }
        boolean ab = side.endsWith("-ab");
        if (ab) {
            TestcontainersBench.AB_SWITCHES.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), FirstContainer.class.getName(),
                ab ? side.substring(0, side.length() - 3) : side));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        p.getOutputStream().close();
        long ready = -1;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith("READY") && ready < 0) {
                    ready = System.nanoTime();
                }
            }
        }
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0 || ready < 0) {
            p.destroyForcibly();
            throw new IllegalStateException("the " + side + " child JVM failed (exit "
                    + (p.isAlive() ? "none" : p.exitValue()) + ", ready " + (ready >= 0) + ")");
        }
        return (ready - t0) / 1e9;
    }
}
