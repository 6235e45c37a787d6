package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.Map;

/**
 * The pids cgroup limit (runtime-spec {@code LinuxPids}).
 *
 * @param limit maximum number of tasks; -1 for none
 * @param unknownFields JSON fields not modelled here
 */
public record LinuxPids(Long limit,
                        @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public LinuxPids {
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public LinuxPids(Long limit) {
        this(limit, null);
    }

    public LinuxPids withLimit(Long newLimit) {
        return new LinuxPids(newLimit, unknownFields);
    }

    public LinuxPids withUnknownFields(Map<String, Object> newUnknownFields) {
        return new LinuxPids(limit, newUnknownFields);
    }
}
