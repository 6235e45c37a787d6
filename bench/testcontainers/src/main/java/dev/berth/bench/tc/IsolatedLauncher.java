package dev.berth.bench.tc;

import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Runs a main class in a class loader of its own over a class path given as an argument, the way Surefire and
 * Failsafe do with {@code useSystemClassLoader=false}: the JVM's own class path is this class's jar alone, so
 * JDK 17 accepts a CDS archive although the test class path has directories before its jars (classes of a
 * user-defined loader are archived and found again by name, size and CRC, not by class path position).
 * Usage: {@code IsolatedLauncher <class path> <main class> <args>...}.
 */
public final class IsolatedLauncher {
    private IsolatedLauncher() {
    }

    public static void main(String[] args) throws Exception {
        String[] entries = args[0].split(File.pathSeparator);
        URL[] urls = new URL[entries.length];
        for (int i = 0; i < entries.length; i++) {
            urls[i] = Path.of(entries[i]).toUri().toURL();
        }
        ClassLoader loader = new URLClassLoader("isolated", urls, ClassLoader.getPlatformClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        Method main = Class.forName(args[1], true, loader).getMethod("main", String[].class);
        main.invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
    }
}
