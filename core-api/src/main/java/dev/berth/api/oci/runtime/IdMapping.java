package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * A user-namespace id range (runtime-spec {@code LinuxIDMapping}): {@code size} ids from
 * {@code containerId} map to ids from {@code hostId}.
 *
 * @param unknownFields JSON fields not modelled here
 */
public record IdMapping(@JsonProperty("containerID") long containerId,
                        @JsonProperty("hostID") long hostId,
                        long size,
                        @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public IdMapping {
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public IdMapping(long containerId, long hostId, long size) {
        this(containerId, hostId, size, null);
    }

    public IdMapping withContainerId(long newContainerId) {
        return new IdMapping(newContainerId, hostId, size, unknownFields);
    }

    public IdMapping withHostId(long newHostId) {
        return new IdMapping(containerId, newHostId, size, unknownFields);
    }

    public IdMapping withSize(long newSize) {
        return new IdMapping(containerId, hostId, newSize, unknownFields);
    }

    public IdMapping withUnknownFields(Map<String, Object> newUnknownFields) {
        return new IdMapping(containerId, hostId, size, newUnknownFields);
    }
}
