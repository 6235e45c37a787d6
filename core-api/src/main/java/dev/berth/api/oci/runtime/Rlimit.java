package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import dev.berth.api.oci.runtime.internal.Unsigned;
import java.util.Map;

/**
 * A resource limit (runtime-spec {@code POSIXRlimit}), e.g. {@code RLIMIT_NOFILE}. {@code hard} and
 * {@code soft} are unsigned 64-bit numbers; {@link #UNLIMITED} ({@code -1L}) is written as
 * {@code 18446744073709551615}, the kernel's {@code RLIM_INFINITY}.
 *
 * @param unknownFields JSON fields not modelled here
 */
public record Rlimit(String type,
                     @Unsigned long hard,
                     @Unsigned long soft,
                     @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    /** {@code RLIM_INFINITY} as a signed long. */
    public static final long UNLIMITED = -1L;

    public Rlimit {
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public Rlimit(String type, long hard, long soft) {
        this(type, hard, soft, null);
    }

    public Rlimit withType(String newType) {
        return new Rlimit(newType, hard, soft, unknownFields);
    }

    public Rlimit withHard(long newHard) {
        return new Rlimit(type, newHard, soft, unknownFields);
    }

    public Rlimit withSoft(long newSoft) {
        return new Rlimit(type, hard, newSoft, unknownFields);
    }

    public Rlimit withUnknownFields(Map<String, Object> newUnknownFields) {
        return new Rlimit(type, hard, soft, newUnknownFields);
    }
}
