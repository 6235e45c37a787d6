package dev.berth.junit;

import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Ready-made log consumers for {@link BerthContainer#withLogConsumer}. */
public final class LogConsumers {
    private LogConsumers() {
    }

    /** Each output line at INFO on the slf4j logger {@code loggerName}, prefixed with {@code prefix} (may be empty). */
    public static Consumer<String> slf4j(String loggerName, String prefix) {
        Logger log = LoggerFactory.getLogger(Objects.requireNonNull(loggerName, "loggerName"));
        String p = Objects.requireNonNull(prefix, "prefix");
        return line -> log.info("{}{}", p, line);
    }

    /** Each output line at INFO on {@code type}'s slf4j logger. */
    public static Consumer<String> slf4j(Class<?> type) {
        return slf4j(type.getName(), "");
    }
}
