package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.List;
import java.util.Map;

/**
 * The execution domain of the process (runtime-spec {@code LinuxPersonality}).
 *
 * @param domain {@code LINUX} or {@code LINUX32}
 * @param unknownFields JSON fields not modelled here
 */
public record LinuxPersonality(String domain,
                               List<String> flags,
                               @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public LinuxPersonality {
        flags = Copies.list(flags);
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public LinuxPersonality(String domain, List<String> flags) {
        this(domain, flags, null);
    }

    public LinuxPersonality withDomain(String newDomain) {
        return new LinuxPersonality(newDomain, flags, unknownFields);
    }

    public LinuxPersonality withFlags(List<String> newFlags) {
        return new LinuxPersonality(domain, newFlags, unknownFields);
    }

    public LinuxPersonality withUnknownFields(Map<String, Object> newUnknownFields) {
        return new LinuxPersonality(domain, flags, newUnknownFields);
    }
}
