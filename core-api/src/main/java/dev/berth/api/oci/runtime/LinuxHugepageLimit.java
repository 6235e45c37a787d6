package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import dev.berth.api.oci.runtime.internal.Unsigned;
import java.util.Map;

/**
 * A hugetlb cgroup limit (runtime-spec {@code LinuxHugepageLimit}).
 *
 * @param pageSize e.g. {@code 2MB}
 * @param limit bytes
 * @param unknownFields JSON fields not modelled here
 */
public record LinuxHugepageLimit(String pageSize,
                                 @Unsigned long limit,
                                 @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public LinuxHugepageLimit {
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public LinuxHugepageLimit(String pageSize, long limit) {
        this(pageSize, limit, null);
    }

    public LinuxHugepageLimit withPageSize(String newPageSize) {
        return new LinuxHugepageLimit(newPageSize, limit, unknownFields);
    }

    public LinuxHugepageLimit withLimit(long newLimit) {
        return new LinuxHugepageLimit(pageSize, newLimit, unknownFields);
    }

    public LinuxHugepageLimit withUnknownFields(Map<String, Object> newUnknownFields) {
        return new LinuxHugepageLimit(pageSize, limit, newUnknownFields);
    }
}
