package dev.berth.junit;

import dev.berth.junit.internal.WaitStrategies;
import java.util.List;

/** The wait strategies. Each is immutable and may serve several containers. */
public final class Wait {
    private Wait() {
    }

    /** Ready at once, when the process has started. */
    public static WaitStrategy none() {
        return WaitStrategies.none();
    }

    /** Ready once {@code times} lines of the container's output (stdout or stderr) contain a match of {@code regex}. */
    public static WaitStrategy forLogMessage(String regex, int times) {
        return WaitStrategies.logMessage(regex, times);
    }

    /**
     * Ready once every published container port listens, as the container's own network namespace sees it
     * ({@code /proc/<pid>/net/tcp} and {@code tcp6} of its process: a proxy or the port mapping alone does not count).
     */
    public static WaitStrategy forListeningPort() {
        return WaitStrategies.listeningPorts(List.of());
    }

    /** Ready once these container ports listen inside the container's network namespace. */
    public static WaitStrategy forListeningPorts(int... containerPorts) {
        return WaitStrategies.listeningPorts(java.util.Arrays.stream(containerPorts).boxed().toList());
    }

    /** Ready once an HTTP GET of {@code path} through the published port answers as configured (default: 200). */
    public static HttpWait forHttp(String path) {
        return new HttpWait(path);
    }

    /** Ready once the container's process has exited with {@code code}; another code fails the start at once. */
    public static WaitStrategy forExitCode(int code) {
        return WaitStrategies.exitCode(code);
    }

    /** Ready once {@code command}, run in the container by exec, exits with 0 (a Docker HEALTHCHECK). */
    public static WaitStrategy forHealthCommand(String... command) {
        return WaitStrategies.healthCommand(List.of(command));
    }

    /** Ready once all of {@code strategies} are (each is polled until it is, then no more). */
    public static WaitStrategy allOf(WaitStrategy... strategies) {
        return WaitStrategies.allOf(List.of(strategies));
    }
}
