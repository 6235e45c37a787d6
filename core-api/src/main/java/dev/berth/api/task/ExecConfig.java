package dev.berth.api.task;

import dev.berth.api.Identifiers;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.oci.runtime.Process;
import dev.berth.api.oci.runtime.User;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A process to run inside a running task ({@link Task#exec}). Either a complete OCI {@link Process}, or
 * just {@code args} (plus optional env, cwd and user) laid over the task's own init process, which
 * supplies capabilities, rlimits, user and environment as {@code ctr task exec} does.
 */
public final class ExecConfig {
    private final String execId;
    private final Process process;
    private final List<String> args;
    private final List<String> env;
    private final String cwd;
    private final User user;
    private final Stdio stdio;
    private final boolean terminal;

    private ExecConfig(Builder b) {
        this.execId = b.execId;
        this.process = b.process;
        this.args = b.args == null ? null : List.copyOf(b.args);
        this.env = List.copyOf(b.env);
        this.cwd = b.cwd;
        this.user = b.user;
        this.stdio = b.stdio;
        this.terminal = b.terminal;
    }

    /** A builder for exec {@code execId} (unique among the task's live execs; an identifier). */
    public static Builder builder(String execId) {
        return new Builder(execId);
    }

    public String execId() {
        return execId;
    }

    public Stdio stdio() {
        return stdio;
    }

    public boolean terminal() {
        return terminal;
    }

    /** This configuration with different stdio. */
    public ExecConfig withStdio(Stdio newStdio) {
        Builder b = new Builder(execId);
        b.process = process;
        b.args = args;
        b.env.addAll(env);
        b.cwd = cwd;
        b.user = user;
        b.stdio = Objects.requireNonNull(newStdio, "stdio");
        b.terminal = terminal;
        return b.build();
    }

    /**
     * The OCI process to send: the complete one if given, else {@code base} (the task's init process) with
     * this configuration's args, extra env, cwd and user. {@code terminal} always follows this configuration.
     */
    public Process toProcess(Process base) {
        Process p;
        if (process != null) {
            p = process;
        } else {
            if (base == null) {
                throw new InvalidArgumentException("exec " + execId + ": the task's spec has no process to base it on;"
                        + " give a complete process");
            }
            p = base.withArgs(args).withConsoleSize(null);
            if (!env.isEmpty()) {
                List<String> merged = new ArrayList<>(base.env());
                for (String kv : env) {
                    String key = kv.substring(0, kv.indexOf('=') + 1);
                    merged.removeIf(e -> e.startsWith(key));
                    merged.add(kv);
                }
                p = p.withEnv(merged);
            }
            if (cwd != null) {
                p = p.withCwd(cwd);
            }
            if (user != null) {
                p = p.withUser(user);
            }
        }
        return p.withTerminal(terminal);
    }

    public static final class Builder {
        private final String execId;
        private Process process;
        private List<String> args;
        private final List<String> env = new ArrayList<>();
        private String cwd;
        private User user;
        private Stdio stdio = Stdio.nullIO();
        private boolean terminal;

        private Builder(String execId) {
            this.execId = Identifiers.validate("exec id", execId);
        }

        /** The complete OCI process; excludes {@link #args}, {@link #env}, {@link #cwd} and {@link #user}. */
        public Builder process(Process process) {
            this.process = Objects.requireNonNull(process, "process");
            return this;
        }

        public Builder args(String... args) {
            return args(List.of(args));
        }

        public Builder args(List<String> args) {
            if (args.isEmpty()) {
                throw new InvalidArgumentException("exec " + execId + ": args must not be empty");
            }
            this.args = List.copyOf(args);
            return this;
        }

        /** Adds or replaces one {@code KEY=value} variable of the task's environment. */
        public Builder env(String keyValue) {
            if (keyValue.indexOf('=') <= 0) {
                throw new InvalidArgumentException("exec " + execId + ": env entry must be KEY=value, got \"" + keyValue + "\"");
            }
            env.add(keyValue);
            return this;
        }

        public Builder cwd(String cwd) {
            if (!cwd.startsWith("/")) {
                throw new InvalidArgumentException("exec " + execId + ": cwd must be absolute, got \"" + cwd + "\"");
            }
            this.cwd = cwd;
            return this;
        }

        public Builder user(long uid, long gid) {
            this.user = User.of(uid, gid);
            return this;
        }

        /** The user, with supplementary groups (e.g. one resolved by name from the container's files). */
        public Builder user(User user) {
            this.user = Objects.requireNonNull(user, "user");
            return this;
        }

        public Builder stdio(Stdio stdio) {
            this.stdio = Objects.requireNonNull(stdio, "stdio");
            return this;
        }

        /** Give the process a pseudo terminal (its output then all comes on stdout). */
        public Builder terminal(boolean terminal) {
            this.terminal = terminal;
            return this;
        }

        /** @throws InvalidArgumentException if neither a process nor args were given, or both */
        public ExecConfig build() {
            if (process == null && args == null) {
                throw new InvalidArgumentException("exec " + execId + ": give args or a complete process");
            }
            if (process != null && (args != null || !env.isEmpty() || cwd != null || user != null)) {
                throw new InvalidArgumentException("exec " + execId
                        + ": a complete process excludes args, env, cwd and user");
            }
            if (process != null && (process.args() == null || process.args().isEmpty())) {
                throw new InvalidArgumentException("exec " + execId + ": the process has no args");
            }
            return new ExecConfig(this);
        }
    }

    @Override
    public String toString() {
        return "ExecConfig[" + execId + ", " + Optional.ofNullable(process).map(Process::args).orElse(args) + "]";
    }
}
