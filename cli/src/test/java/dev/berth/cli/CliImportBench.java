package dev.berth.cli;

import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code images import} of one archive as a user runs it ({@code bin/berth}, a new JVM per call), with bin/berth's
 * earlier start-up (A/B), through {@code ctr images import}, and as the same command in this long-lived JVM
 * ({@link Main#run}, after one warm-up round: the warm in-process figure), and through the library from a fresh JVM
 * with the JDK's default flags ({@link LibraryImportOnce}, side {@code library-fresh}: what a JVM user calling the
 * library once pays). Every side imports into a root of its own
 * made for the round (ctr: a namespace of its own), page cache as it is (the archive stays cached for all), the
 * dirty pages of the previous side flushed ({@code sync}) before each. Sides rotate their order per round.
 * Prints {@code BENCH cli-import <side> <seconds>} lines for bench/run.
 *
 * <p>Usage: {@code CliImportBench <rounds> <archive> <base dir> <bin/berth> <ctr socket>}; {@code
 * -Dbench.cliAbEnv="K=V;K=V"} is the environment of the A/B side (default: {@code BERTH_CLI_GC=g1}, the
 * import under G1 as the short commands run, where it runs under the serial collector by default); {@code -Dbench.cliSides=berth,berth-inprocess} picks sides.
 */
public final class CliImportBench {
    private static final String DEFAULT_AB = "BERTH_CLI_GC=g1";

    private CliImportBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = Integer.parseInt(args[0]);
        Path archive = Path.of(args[1]);
        Path base = Files.createTempDirectory(Path.of(args[2]), "cli-import-");
        String berth = args[3];
        String sock = args[4];
        String[] sides = System.getProperty("bench.cliSides", "berth,berth-before,containerd,berth-inprocess,library-fresh").split(",");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("java.class.path");
        for (int round = 0; round <= rounds; round++) { // round 0 is the warm-up
            for (int k = 0; k < sides.length; k++) {
                String side = sides[(k + round) % sides.length];
                Path dir = base.resolve(side + "-" + round);
                sync();
                long t0 = System.nanoTime();
                switch (side) {
                    case "berth" -> exec(Map.of(), berth, "--root", dir + "/root", "--state", dir + "/state", "-n", "cli",
                            "images", "import", "--quiet", archive.toString());
                    case "berth-before" -> exec(abEnv(), berth, "--root", dir + "/root", "--state", dir + "/state", "-n",
                            "cli", "images", "import", "--quiet", archive.toString());
                    case "containerd" -> exec(Map.of(), "ctr", "-a", sock, "-n", "bench-cli-import-" + round, "images",
                            "import", archive.toString());
                    // the library called once from a JVM of its own, the JDK's default flags (LibraryImportOnce)
                    case "library-fresh" -> exec(Map.of(), javaBin, "-Dbench.steps=true", "-cp", classPath,
                            LibraryImportOnce.class.getName(), archive.toString(), dir + "/root", dir + "/state", "cli");
                    default -> {
                        int rc = Main.run(new String[] {"--root", dir + "/root", "--state", dir + "/state", "-n", "cli",
                            "images", "import", "--quiet", archive.toString()}, new PrintWriter(Writer.nullWriter()),
                                new PrintWriter(System.err, true));
                        if (rc != 0) {
                            throw new IllegalStateException("in-process import exited " + rc);
                        }
                    }
                }
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("round %d %s %.3f s%n", round, side, s);
                if (round > 0) {
                    System.out.printf("BENCH cli-import %s %.4f%n", side, s);
                }
            }
        }
        // bench/run removes the base directory (and the ctr namespaces' images with the containerd it started)
        System.out.println("base " + base);
    }

    private static Map<String, String> abEnv() {
        String spec = System.getProperty("bench.cliAbEnv", DEFAULT_AB);
        Map<String, String> env = new java.util.HashMap<>();
        for (String kv : spec.split(";")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                env.put(kv.substring(0, eq).trim(), kv.substring(eq + 1));
            }
        }
        return env;
    }

    private static void exec(Map<String, String> env, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(env);
        int rc = pb.start().waitFor();
        if (rc != 0) {
            throw new IllegalStateException(List.of(command) + " exited " + rc);
        }
    }

    private static void sync() throws Exception {
        new ProcessBuilder("sync").redirectError(ProcessBuilder.Redirect.INHERIT).start().waitFor();
    }
}
