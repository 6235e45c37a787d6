package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.List;
import java.util.Map;

/**
 * The container's init process (runtime-spec {@code Process}); also the payload of an exec.
 *
 * @param terminal whether the process gets a pseudo-terminal
 * @param user always written: runc requires {@code user.uid}/{@code user.gid}
 * @param args argv; {@code args[0]} is looked up on the container's {@code PATH} by runc
 * @param commandLine Windows only
 * @param env {@code KEY=value} entries
 * @param cwd absolute path inside the container
 * @param oomScoreAdj -1000..1000
 * @param unknownFields JSON fields not modelled here
 */
public record Process(Boolean terminal,
                      ConsoleSize consoleSize,
                      User user,
                      List<String> args,
                      String commandLine,
                      List<String> env,
                      String cwd,
                      Capabilities capabilities,
                      List<Rlimit> rlimits,
                      Boolean noNewPrivileges,
                      String apparmorProfile,
                      Integer oomScoreAdj,
                      String selinuxLabel,
                      @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public Process {
        args = Copies.list(args);
        env = Copies.list(env);
        rlimits = Copies.list(rlimits);
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public Process(Boolean terminal, ConsoleSize consoleSize, User user, List<String> args, String commandLine,
            List<String> env, String cwd, Capabilities capabilities, List<Rlimit> rlimits, Boolean noNewPrivileges,
            String apparmorProfile, Integer oomScoreAdj, String selinuxLabel) {
        this(terminal, consoleSize, user, args, commandLine, env, cwd, capabilities, rlimits, noNewPrivileges,
                apparmorProfile, oomScoreAdj, selinuxLabel, null);
    }

    public Process withTerminal(Boolean newTerminal) {
        return new Process(newTerminal, consoleSize, user, args, commandLine, env, cwd, capabilities, rlimits,
                noNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel, unknownFields);
    }

    public Process withConsoleSize(ConsoleSize newConsoleSize) {
        return new Process(terminal, newConsoleSize, user, args, commandLine, env, cwd, capabilities, rlimits,
                noNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel, unknownFields);
    }

    public Process withUser(User newUser) {
        return new Process(terminal, consoleSize, newUser, args, commandLine, env, cwd, capabilities, rlimits,
                noNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel, unknownFields);
    }

    public Process withArgs(List<String> newArgs) {
        return new Process(terminal, consoleSize, user, newArgs, commandLine, env, cwd, capabilities, rlimits,
                noNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel, unknownFields);
    }

    public Process withCommandLine(String newCommandLine) {
        return new Process(terminal, consoleSize, user, args, newCommandLine, env, cwd, capabilities, rlimits,
                noNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel, unknownFields);
    }

    public Process withEnv(List<String> newEnv) {
        return new Process(terminal, consoleSize, user, args, commandLine, newEnv, cwd, capabilities, rlimits,
                noNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel, unknownFields);
    }

    public Process withCwd(String newCwd) {
        return new Process(terminal, consoleSize, user, args, commandLine, env, newCwd, capabilities, rlimits,
                noNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel, unknownFields);
    }

    public Process withCapabilities(Capabilities newCapabilities) {
        return new Process(terminal, consoleSize, user, args, commandLine, env, cwd, newCapabilities, rlimits,
                noNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel, unknownFields);
    }

    public Process withRlimits(List<Rlimit> newRlimits) {
        return new Process(terminal, consoleSize, user, args, commandLine, env, cwd, capabilities, newRlimits,
                noNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel, unknownFields);
    }

    public Process withNoNewPrivileges(Boolean newNoNewPrivileges) {
        return new Process(terminal, consoleSize, user, args, commandLine, env, cwd, capabilities, rlimits,
                newNoNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel, unknownFields);
    }

    public Process withApparmorProfile(String newApparmorProfile) {
        return new Process(terminal, consoleSize, user, args, commandLine, env, cwd, capabilities, rlimits,
                noNewPrivileges, newApparmorProfile, oomScoreAdj, selinuxLabel, unknownFields);
    }

    public Process withOomScoreAdj(Integer newOomScoreAdj) {
        return new Process(terminal, consoleSize, user, args, commandLine, env, cwd, capabilities, rlimits,
                noNewPrivileges, apparmorProfile, newOomScoreAdj, selinuxLabel, unknownFields);
    }

    public Process withSelinuxLabel(String newSelinuxLabel) {
        return new Process(terminal, consoleSize, user, args, commandLine, env, cwd, capabilities, rlimits,
                noNewPrivileges, apparmorProfile, oomScoreAdj, newSelinuxLabel, unknownFields);
    }

    public Process withUnknownFields(Map<String, Object> newUnknownFields) {
        return new Process(terminal, consoleSize, user, args, commandLine, env, cwd, capabilities, rlimits,
                noNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel, newUnknownFields);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this value. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.terminal = terminal;
        b.consoleSize = consoleSize;
        b.user = user;
        b.args = args;
        b.commandLine = commandLine;
        b.env = env;
        b.cwd = cwd;
        b.capabilities = capabilities;
        b.rlimits = rlimits;
        b.noNewPrivileges = noNewPrivileges;
        b.apparmorProfile = apparmorProfile;
        b.oomScoreAdj = oomScoreAdj;
        b.selinuxLabel = selinuxLabel;
        b.unknownFields = unknownFields;
        return b;
    }

    /** Collects the fields of a {@link Process}; not thread-safe. */
    public static final class Builder {
        private Boolean terminal;
        private ConsoleSize consoleSize;
        private User user;
        private List<String> args;
        private String commandLine;
        private List<String> env;
        private String cwd;
        private Capabilities capabilities;
        private List<Rlimit> rlimits;
        private Boolean noNewPrivileges;
        private String apparmorProfile;
        private Integer oomScoreAdj;
        private String selinuxLabel;
        private Map<String, Object> unknownFields;

        private Builder() {
        }

        public Builder terminal(Boolean value) {
            this.terminal = value;
            return this;
        }

        public Builder consoleSize(ConsoleSize value) {
            this.consoleSize = value;
            return this;
        }

        public Builder user(User value) {
            this.user = value;
            return this;
        }

        public Builder args(List<String> value) {
            this.args = value;
            return this;
        }

        public Builder commandLine(String value) {
            this.commandLine = value;
            return this;
        }

        public Builder env(List<String> value) {
            this.env = value;
            return this;
        }

        public Builder cwd(String value) {
            this.cwd = value;
            return this;
        }

        public Builder capabilities(Capabilities value) {
            this.capabilities = value;
            return this;
        }

        public Builder rlimits(List<Rlimit> value) {
            this.rlimits = value;
            return this;
        }

        public Builder noNewPrivileges(Boolean value) {
            this.noNewPrivileges = value;
            return this;
        }

        public Builder apparmorProfile(String value) {
            this.apparmorProfile = value;
            return this;
        }

        public Builder oomScoreAdj(Integer value) {
            this.oomScoreAdj = value;
            return this;
        }

        public Builder selinuxLabel(String value) {
            this.selinuxLabel = value;
            return this;
        }

        public Builder unknownFields(Map<String, Object> value) {
            this.unknownFields = value;
            return this;
        }

        public Process build() {
            return new Process(terminal, consoleSize, user, args, commandLine, env, cwd, capabilities, rlimits,
                    noNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel, unknownFields);
        }
    }
}
