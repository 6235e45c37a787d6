package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import dev.berth.api.oci.runtime.internal.Unsigned;
import java.util.List;
import java.util.Map;

/**
 * A seccomp filter (runtime-spec {@code LinuxSeccomp}).
 *
 * @param defaultAction e.g. {@code SCMP_ACT_ERRNO}
 * @param unknownFields JSON fields not modelled here
 */
public record LinuxSeccomp(String defaultAction,
                           Long defaultErrnoRet,
                           List<String> architectures,
                           List<String> flags,
                           String listenerPath,
                           String listenerMetadata,
                           List<Syscall> syscalls,
                           @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public LinuxSeccomp {
        architectures = Copies.list(architectures);
        flags = Copies.list(flags);
        syscalls = Copies.list(syscalls);
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public LinuxSeccomp(String defaultAction, Long defaultErrnoRet, List<String> architectures, List<String> flags,
            String listenerPath, String listenerMetadata, List<Syscall> syscalls) {
        this(defaultAction, defaultErrnoRet, architectures, flags, listenerPath, listenerMetadata, syscalls, null);
    }

    public LinuxSeccomp withDefaultAction(String newDefaultAction) {
        return new LinuxSeccomp(newDefaultAction, defaultErrnoRet, architectures, flags, listenerPath,
                listenerMetadata, syscalls, unknownFields);
    }

    public LinuxSeccomp withDefaultErrnoRet(Long newDefaultErrnoRet) {
        return new LinuxSeccomp(defaultAction, newDefaultErrnoRet, architectures, flags, listenerPath,
                listenerMetadata, syscalls, unknownFields);
    }

    public LinuxSeccomp withArchitectures(List<String> newArchitectures) {
        return new LinuxSeccomp(defaultAction, defaultErrnoRet, newArchitectures, flags, listenerPath,
                listenerMetadata, syscalls, unknownFields);
    }

    public LinuxSeccomp withFlags(List<String> newFlags) {
        return new LinuxSeccomp(defaultAction, defaultErrnoRet, architectures, newFlags, listenerPath,
                listenerMetadata, syscalls, unknownFields);
    }

    public LinuxSeccomp withListenerPath(String newListenerPath) {
        return new LinuxSeccomp(defaultAction, defaultErrnoRet, architectures, flags, newListenerPath,
                listenerMetadata, syscalls, unknownFields);
    }

    public LinuxSeccomp withListenerMetadata(String newListenerMetadata) {
        return new LinuxSeccomp(defaultAction, defaultErrnoRet, architectures, flags, listenerPath,
                newListenerMetadata, syscalls, unknownFields);
    }

    public LinuxSeccomp withSyscalls(List<Syscall> newSyscalls) {
        return new LinuxSeccomp(defaultAction, defaultErrnoRet, architectures, flags, listenerPath, listenerMetadata,
                newSyscalls, unknownFields);
    }

    public LinuxSeccomp withUnknownFields(Map<String, Object> newUnknownFields) {
        return new LinuxSeccomp(defaultAction, defaultErrnoRet, architectures, flags, listenerPath, listenerMetadata,
                syscalls, newUnknownFields);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this value. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.defaultAction = defaultAction;
        b.defaultErrnoRet = defaultErrnoRet;
        b.architectures = architectures;
        b.flags = flags;
        b.listenerPath = listenerPath;
        b.listenerMetadata = listenerMetadata;
        b.syscalls = syscalls;
        b.unknownFields = unknownFields;
        return b;
    }

    /** Collects the fields of a {@link LinuxSeccomp}; not thread-safe. */
    public static final class Builder {
        private String defaultAction;
        private Long defaultErrnoRet;
        private List<String> architectures;
        private List<String> flags;
        private String listenerPath;
        private String listenerMetadata;
        private List<Syscall> syscalls;
        private Map<String, Object> unknownFields;

        private Builder() {
        }

        public Builder defaultAction(String value) {
            this.defaultAction = value;
            return this;
        }

        public Builder defaultErrnoRet(Long value) {
            this.defaultErrnoRet = value;
            return this;
        }

        public Builder architectures(List<String> value) {
            this.architectures = value;
            return this;
        }

        public Builder flags(List<String> value) {
            this.flags = value;
            return this;
        }

        public Builder listenerPath(String value) {
            this.listenerPath = value;
            return this;
        }

        public Builder listenerMetadata(String value) {
            this.listenerMetadata = value;
            return this;
        }

        public Builder syscalls(List<Syscall> value) {
            this.syscalls = value;
            return this;
        }

        public Builder unknownFields(Map<String, Object> value) {
            this.unknownFields = value;
            return this;
        }

        public LinuxSeccomp build() {
            return new LinuxSeccomp(defaultAction, defaultErrnoRet, architectures, flags, listenerPath,
                    listenerMetadata, syscalls, unknownFields);
        }
    }

    /**
     * A rule for some syscalls (runtime-spec {@code LinuxSyscall}).
     *
     * @param unknownFields JSON fields not modelled here
     */
    public record Syscall(List<String> names,
                          String action,
                          Long errnoRet,
                          List<Arg> args,
                          @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
        public Syscall {
            names = Copies.list(names);
            args = Copies.list(args);
            unknownFields = Copies.map(unknownFields);
        }

        /** A value with no unknown fields. */
        public Syscall(List<String> names, String action, Long errnoRet, List<Arg> args) {
            this(names, action, errnoRet, args, null);
        }

        public Syscall withNames(List<String> newNames) {
            return new Syscall(newNames, action, errnoRet, args, unknownFields);
        }

        public Syscall withAction(String newAction) {
            return new Syscall(names, newAction, errnoRet, args, unknownFields);
        }

        public Syscall withErrnoRet(Long newErrnoRet) {
            return new Syscall(names, action, newErrnoRet, args, unknownFields);
        }

        public Syscall withArgs(List<Arg> newArgs) {
            return new Syscall(names, action, errnoRet, newArgs, unknownFields);
        }

        public Syscall withUnknownFields(Map<String, Object> newUnknownFields) {
            return new Syscall(names, action, errnoRet, args, newUnknownFields);
        }
    }

    /**
     * A condition on a syscall argument (runtime-spec {@code LinuxSeccompArg}); values are unsigned 64-bit.
     *
     * @param op e.g. {@code SCMP_CMP_EQ}
     * @param unknownFields JSON fields not modelled here
     */
    public record Arg(long index,
                      @Unsigned long value,
                      @Unsigned long valueTwo,
                      String op,
                      @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
        public Arg {
            unknownFields = Copies.map(unknownFields);
        }

        /** A value with no unknown fields. */
        public Arg(long index, long value, long valueTwo, String op) {
            this(index, value, valueTwo, op, null);
        }

        public Arg withIndex(long newIndex) {
            return new Arg(newIndex, value, valueTwo, op, unknownFields);
        }

        public Arg withValue(long newValue) {
            return new Arg(index, newValue, valueTwo, op, unknownFields);
        }

        public Arg withValueTwo(long newValueTwo) {
            return new Arg(index, value, newValueTwo, op, unknownFields);
        }

        public Arg withOp(String newOp) {
            return new Arg(index, value, valueTwo, newOp, unknownFields);
        }

        public Arg withUnknownFields(Map<String, Object> newUnknownFields) {
            return new Arg(index, value, valueTwo, op, newUnknownFields);
        }
    }
}
