package dev.berth.api.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * The step log of one operation for the benchmark's breakdown (logger {@code dev.berth.timing}): the
 * caller {@link #begin}s it on its thread; code below marks steps with {@link #mark} (a no-op costing one
 * thread-local read when no log is open); a component that finishes work on other threads keeps the
 * {@link #current} log and marks it there with {@link #markOn}. Marks are named; the time of a step is
 * that since the previous mark.
 */
public final class StepTimes {
    private static final ThreadLocal<StepTimes> CURRENT = new ThreadLocal<>();

    private final long start = System.nanoTime();
    private final List<String> names = new ArrayList<>();
    private final List<Long> times = new ArrayList<>();

    private StepTimes() {
    }

    /** Opens a log on this thread (replacing any); close it with {@link #end}. */
    public static StepTimes begin() {
        StepTimes s = new StepTimes();
        CURRENT.set(s);
        return s;
    }

    /** The log open on this thread, or null. */
    public static StepTimes current() {
        return CURRENT.get();
    }

    /** Opens {@code steps}, begun elsewhere, on this thread too (null: none); close it with {@link #end}. */
    public static void adopt(StepTimes steps) {
        if (steps == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(steps);
        }
    }

    /** Opens a log not bound to any thread, marked with {@link #markOn} (or {@link #adopt}ed). */
    public static StepTimes detached() {
        return new StepTimes();
    }

    /** Marks the end of step {@code name} in this thread's log, if one is open. */
    public static void mark(String name) {
        StepTimes s = CURRENT.get();
        if (s != null) {
            s.add(name, System.nanoTime());
        }
    }

    /** Marks the end of step {@code name} in {@code steps} (from any thread); null is ignored. */
    public static void markOn(StepTimes steps, String name) {
        if (steps != null) {
            steps.add(name, System.nanoTime());
        }
    }

    /** Closes this thread's log. */
    public static void end() {
        CURRENT.remove();
    }

    private synchronized void add(String name, long at) {
        names.add(name);
        times.add(at);
    }

    /** {@code name ms} per mark in time order, each the time since the mark before (the first: since begin). */
    public synchronized String format() {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < times.size(); i++) {
            order.add(i);
        }
        order.sort((a, b) -> Long.compare(times.get(a), times.get(b)));
        StringBuilder sb = new StringBuilder();
        long prev = start;
        for (int i : order) {
            long t = times.get(i);
            sb.append(sb.length() == 0 ? "" : " ").append(names.get(i)).append(' ')
                    .append(String.format("%.1f", (t - prev) / 1e6));
            prev = t;
        }
        return sb.toString();
    }
}
