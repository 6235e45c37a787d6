package dev.berth.junit.internal;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.task.RunResult;
import dev.berth.junit.BerthContainer;
import dev.berth.junit.ContainerLaunchException;
import dev.berth.junit.WaitStrategy;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** The implementations behind {@link dev.berth.junit.Wait}'s factories. */
public final class WaitStrategies {
    /** Checks that read memory or a small /proc file (tens of microseconds): polled every 5 ms. */
    static final Duration CHEAP = Duration.ofMillis(5);
    /** Checks that start a process in the container: at most every 100 ms (WaitStrategy's default). */
    static final Duration COSTLY = Duration.ofMillis(100);

    private WaitStrategies() {
    }

    public static WaitStrategy none() {
        return new Simple("nothing (ready when started)", c -> true, false, CHEAP);
    }

    public static WaitStrategy logMessage(String regex, int times) {
        Pattern p = Pattern.compile(Objects.requireNonNull(regex, "regex"));
        if (times < 1) {
            throw new InvalidArgumentException("log message count must be at least 1, not " + times);
        }
        return new Simple("log line matching '" + regex + "'" + (times > 1 ? " " + times + " times" : ""),
                c -> c.logLines().stream().filter(l -> p.matcher(l).find()).limit(times).count() >= times, false, CHEAP);
    }

    public static WaitStrategy listeningPorts(List<Integer> ports) {
        String what = ports.isEmpty() ? "every published port" : "ports " + ports;
        return new Simple(what + " listening inside the container", c -> {
            List<Integer> wanted = ports.isEmpty() ? c.exposedPorts() : ports;
            if (wanted.isEmpty()) {
                throw new ContainerLaunchException("listening-port wait: " + c.id() + " publishes no port");
            }
            Set<Integer> listening = ListeningPorts.of(c.pid());
            return listening.containsAll(wanted);
        }, false, CHEAP);
    }

    public static WaitStrategy exitCode(int code) {
        return new Simple("exit code " + code, c -> {
            OptionalInt exit = c.exitCode();
            if (exit.isEmpty()) {
                return false;
            }
            if (exit.getAsInt() != code) {
                throw new ContainerLaunchException(c.id() + " exited with code " + exit.getAsInt() + ", expected " + code);
            }
            return true;
        }, true, CHEAP);
    }

    public static WaitStrategy healthCommand(List<String> command) {
        if (command.isEmpty()) {
            throw new InvalidArgumentException("health command must not be empty");
        }
        List<String> args = List.copyOf(command);
        return new Simple("health command " + args + " exiting with 0", c -> {
            RunResult r = c.exec(args.toArray(String[]::new));
            return r.exitCode() == 0;
        }, false, COSTLY);
    }

    public static WaitStrategy allOf(List<WaitStrategy> strategies) {
        if (strategies.isEmpty()) {
            throw new InvalidArgumentException("allOf needs at least one wait strategy");
        }
        return new AllOf(List.copyOf(strategies));
    }

    @FunctionalInterface
    interface Check {
        boolean test(BerthContainer<?> container) throws Exception;
    }

    private record Simple(String description, Check check, boolean allowsExit, Duration pollInterval)
            implements WaitStrategy {
        @Override
        public boolean isReady(BerthContainer<?> container) throws Exception {
            return check.test(container);
        }
    }

    /** Ready when every strategy is, checked in order (the first not ready ends the round). */
    private static final class AllOf implements WaitStrategy {
        private final List<WaitStrategy> strategies;

        AllOf(List<WaitStrategy> strategies) {
            this.strategies = strategies;
        }

        @Override
        public boolean isReady(BerthContainer<?> container) throws Exception {
            for (WaitStrategy s : strategies) {
                if (!s.isReady(container)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public boolean allowsExit() {
            return strategies.stream().anyMatch(WaitStrategy::allowsExit);
        }

        /** The slowest member's: a costly check is not run more often for being combined with a cheap one. */
        @Override
        public Duration pollInterval() {
            return strategies.stream().map(WaitStrategy::pollInterval).max(Duration::compareTo).orElseThrow();
        }

        @Override
        public String description() {
            return strategies.stream().map(WaitStrategy::description).collect(Collectors.joining(" and "));
        }
    }
}
