package dev.berth;

import dev.berth.api.InvalidArgumentException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A command for {@link Container#exec(ExecOptions)}: args, plus what differs from the container's own
 * process (environment entries, working directory, user by name or id, stdin). The exec id is made for
 * the caller. Immutable; build with {@link #builder(String...)}.
 */
public final class ExecOptions {
    private final List<String> args;
    private final List<String> env;
    private final String cwd;
    private final String user;
    private final byte[] stdin;

    private ExecOptions(Builder b) {
        this.args = List.copyOf(b.args);
        this.env = List.copyOf(b.env);
        this.cwd = b.cwd;
        this.user = b.user;
        this.stdin = b.stdin;
    }

    /** A command {@code args} (at least one). */
    public static Builder builder(String... args) {
        return new Builder(Arrays.asList(args));
    }

    public static Builder builder(List<String> args) {
        return new Builder(args);
    }

    public List<String> args() {
        return args;
    }

    /** {@code NAME=value} entries laid over the container's environment. */
    public List<String> env() {
        return env;
    }

    /** The working directory, null for the container's. */
    public String cwd() {
        return cwd;
    }

    /** The user as given ({@code name}, {@code uid}, {@code name:group}, ...), null for the container's. */
    public String user() {
        return user;
    }

    /** What is fed to the command's stdin, null for nothing. */
    public byte[] stdin() {
        return stdin == null ? null : stdin.clone();
    }

    /** Not thread-safe. */
    public static final class Builder {
        private final List<String> args;
        private final List<String> env = new ArrayList<>();
        private String cwd;
        private String user;
        private byte[] stdin;

        private Builder(List<String> args) {
            if (args.isEmpty()) {
                throw new InvalidArgumentException("an exec needs at least one argument");
            }
            args.forEach(a -> Objects.requireNonNull(a, "exec argument"));
            this.args = List.copyOf(args);
        }

        /** Adds {@code name=value} to the environment. */
        public Builder env(String name, String value) {
            if (name.isEmpty() || name.indexOf('=') >= 0) {
                throw new InvalidArgumentException("environment variable name \"" + name + "\" is empty or has '='");
            }
            env.add(name + "=" + Objects.requireNonNull(value, "value"));
            return this;
        }

        /** The working directory (absolute). */
        public Builder cwd(String dir) {
            if (!dir.startsWith("/")) {
                throw new InvalidArgumentException("exec working directory must be absolute, not \"" + dir + "\"");
            }
            this.cwd = dir;
            return this;
        }

        /**
         * Runs as {@code user}: {@code name}, {@code uid}, {@code name:group}, {@code uid:gid}; names are looked
         * up in the container's own {@code /etc/passwd} and {@code /etc/group}.
         */
        public Builder user(String newUser) {
            if (newUser.isBlank()) {
                throw new InvalidArgumentException("exec user must not be blank");
            }
            this.user = newUser;
            return this;
        }

        /** Bytes fed to the command's stdin (then closed). */
        public Builder stdin(byte[] input) {
            this.stdin = Objects.requireNonNull(input, "stdin").clone();
            return this;
        }

        public ExecOptions build() {
            return new ExecOptions(this);
        }
    }
}
