package dev.berth.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A main class run in a second JVM on this test's class path, for tests that need another process on
 * the same root (cross-process locks, crash recovery after SIGKILL). Its stdout lines are collected as
 * they come; its stderr goes to the test's. Closing it kills it with SIGKILL if it is still running.
 */
public final class ChildJvm implements AutoCloseable {
    private static final String EOF = "\u0000EOF";
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> printed = Collections.synchronizedList(new ArrayList<>());

    private ChildJvm(Process process) {
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    printed.add(line);
                    lines.add(line);
                }
            } catch (IOException e) {
                // the child is gone; what it printed so far is kept
            } finally {
                lines.add(EOF);
            }
        }, "child-jvm-stdout-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code mainClass args...} with extra JVM options (e.g. {@code -Dkey=value}). The child gets a
     * small heap and C1 only, since these children are short-lived.
     */
    public static ChildJvm start(Class<?> mainClass, List<String> jvmOptions, String... args) throws IOException {
        return new ChildJvm(new ProcessBuilder(javaCommand(mainClass, jvmOptions, args))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start());
    }

    /**
     * As {@link #start}, with the process umask set to {@code umask} (octal, e.g. {@code "000"}): for tests
     * that what the child creates has explicit modes, since a JVM cannot change its own umask.
     */
    public static ChildJvm startWithUmask(String umask, Class<?> mainClass, List<String> jvmOptions, String... args)
            throws IOException {
        if (!umask.matches("[0-7]{1,4}")) {
            throw new IllegalArgumentException("umask must be octal: " + umask);
        }
        List<String> command = new ArrayList<>(List.of("sh", "-c", "umask " + umask + " && exec \"$@\"", "sh"));
        command.addAll(javaCommand(mainClass, jvmOptions, args));
        return new ChildJvm(new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start());
    }

    private static List<String> javaCommand(Class<?> mainClass, List<String> jvmOptions, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        return command;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The next stdout line, or null once the child has ended and everything was read. */
    public String nextLine(Duration timeout) throws InterruptedException {
        String line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (line == null) {
            throw new AssertionError("child " + pid() + " printed nothing for " + timeout + "; so far: " + output());
        }
        if (line.equals(EOF)) {
            lines.add(EOF);
            return null;
        }
        return line;
    }

    /** Waits for a stdout line starting with {@code prefix}; fails if the child ends or time runs out. */
    public String awaitLine(String prefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError("child " + pid() + " printed no \"" + prefix + "\" line within " + timeout
                        + "; it printed " + output());
            }
            if (line.equals(EOF)) {
                lines.add(EOF);
                throw new AssertionError("child " + pid() + " ended without printing \"" + prefix
                        + "\"; it printed " + output());
            }
            if (line.startsWith(prefix)) {
                return line;
            }
        }
    }

    /** Every stdout line the child has printed so far, whether or not it was consumed. */
    public List<String> output() {
        synchronized (printed) {
            return new ArrayList<>(printed);
        }
    }

    /** Closes the child's stdin, a simple signal for children that wait on it. */
    public void closeStdin() throws IOException {
        process.getOutputStream().close();
    }

    /** Waits for the child to exit and returns its status; fails if it is still running after {@code timeout}. */
    public int waitForExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("child " + pid() + " still running after " + timeout + "; it printed " + output());
        }
        return process.exitValue();
    }

    /** SIGKILL, as {@code kill -9}, then waits for the process to be gone. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
