package dev.berth.cli;

import dev.berth.Berth;
import java.nio.file.Path;

/**
 * What a JVM user who calls the library once pays for an import: a JVM of its own with the JDK's default flags
 * (no class-data archive of Berth's, the full JIT, G1), {@code Berth.builder()} with its defaults, one {@code
 * importImage}, close. {@link CliImportBench}'s side {@code library-fresh} runs it; it prints one line on stderr
 * with its steps' wall times (JVM start to main, open, import, close) when {@code -Dbench.steps=true}.
 *
 * <p>Usage: {@code LibraryImportOnce <archive> <root> <state> <namespace>}.
 */
public final class LibraryImportOnce {
    private LibraryImportOnce() {
    }

    public static void main(String[] args) {
        long t0 = System.nanoTime();
        long jvmStart = java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
        long toMain = System.currentTimeMillis() - jvmStart;
        long opened;
        long imported;
        int n;
        try (Berth berth = Berth.builder().root(Path.of(args[1])).stateDir(Path.of(args[2])).build()) {
            opened = System.nanoTime();
            n = berth.namespace(args[3]).importImage(Path.of(args[0])).size();
            imported = System.nanoTime();
        }
        long closed = System.nanoTime();
        if (n == 0) {
            throw new IllegalStateException("the archive held no image");
        }
        if (Boolean.getBoolean("bench.steps")) {
            System.err.printf("library-fresh steps: jvm->main %d ms, open %d ms, import %d ms, close %d ms%n", toMain,
                    (opened - t0) / 1_000_000, (imported - opened) / 1_000_000, (closed - imported) / 1_000_000);
        }
    }
}
