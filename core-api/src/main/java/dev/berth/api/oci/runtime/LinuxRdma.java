package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.Map;

/**
 * RDMA cgroup limits for one device (runtime-spec {@code LinuxRdma}).
 *
 * @param unknownFields JSON fields not modelled here
 */
public record LinuxRdma(Long hcaHandles,
                        Long hcaObjects,
                        @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public LinuxRdma {
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public LinuxRdma(Long hcaHandles, Long hcaObjects) {
        this(hcaHandles, hcaObjects, null);
    }

    public LinuxRdma withHcaHandles(Long newHcaHandles) {
        return new LinuxRdma(newHcaHandles, hcaObjects, unknownFields);
    }

    public LinuxRdma withHcaObjects(Long newHcaObjects) {
        return new LinuxRdma(hcaHandles, newHcaObjects, unknownFields);
    }

    public LinuxRdma withUnknownFields(Map<String, Object> newUnknownFields) {
        return new LinuxRdma(hcaHandles, hcaObjects, newUnknownFields);
    }
}
