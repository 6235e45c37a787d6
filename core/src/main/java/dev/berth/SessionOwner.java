package dev.berth;

import java.util.Optional;

/**
 * Who made a session-scoped or rm container: a process, named by its pid and start time so a reused pid is
 * not mistaken for the owner. Stored as a container label, read back by the next process that opens the
 * root (or by {@link Berth#gc()} of a live one) to remove what a dead owner left.
 */
final class SessionOwner {
    /** Label of a session-scoped container: removed, task, snapshot and record, when its owner ends. */
    static final String SESSION_LABEL = "berth.session/owner";
    /** Label of a container run with rm: removed once its task is gone, by its owner or after it. */
    static final String RM_LABEL = "berth.run/rm";

    private static final String CURRENT = token(ProcessHandle.current());

    private SessionOwner() {
    }

    /** This process's token, {@code <pid>@<start time>}. */
    static String current() {
        return CURRENT;
    }

    static boolean isCurrent(String token) {
        return CURRENT.equals(token); // null-safe: a container without the label is no one's
    }

    /** Whether the process {@code token} names is still running (an unreadable token counts as gone). */
    static boolean isAlive(String token) {
        int at = token.indexOf('@');
        if (at <= 0) {
            return false;
        }
        long pid;
        try {
            pid = Long.parseLong(token.substring(0, at));
        } catch (NumberFormatException e) {
            return false;
        }
        Optional<ProcessHandle> p = ProcessHandle.of(pid);
        return p.isPresent() && p.get().isAlive() && token(p.get()).equals(token);
    }

    private static String token(ProcessHandle p) {
        return p.pid() + "@" + p.info().startInstant().map(i -> Long.toString(i.toEpochMilli())).orElse("0");
    }
}
