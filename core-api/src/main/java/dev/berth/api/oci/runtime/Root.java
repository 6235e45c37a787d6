package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.Map;

/**
 * The container's root filesystem (runtime-spec {@code Root}).
 *
 * @param path the rootfs, relative to the bundle or absolute
 * @param readonly whether runc mounts the rootfs read-only
 * @param unknownFields JSON fields not modelled here
 */
public record Root(String path,
                   Boolean readonly,
                   @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public Root {
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public Root(String path, Boolean readonly) {
        this(path, readonly, null);
    }

    public Root withPath(String newPath) {
        return new Root(newPath, readonly, unknownFields);
    }

    public Root withReadonly(Boolean newReadonly) {
        return new Root(path, newReadonly, unknownFields);
    }

    public Root withUnknownFields(Map<String, Object> newUnknownFields) {
        return new Root(path, readonly, newUnknownFields);
    }
}
