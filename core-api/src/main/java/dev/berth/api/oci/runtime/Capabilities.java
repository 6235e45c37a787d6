package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.List;
import java.util.Map;

/**
 * The capability sets of the process (runtime-spec {@code LinuxCapabilities}), names with the
 * {@code CAP_} prefix.
 *
 * @param unknownFields JSON fields not modelled here
 */
public record Capabilities(List<String> bounding,
                           List<String> effective,
                           List<String> inheritable,
                           List<String> permitted,
                           List<String> ambient,
                           @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public Capabilities {
        bounding = Copies.list(bounding);
        effective = Copies.list(effective);
        inheritable = Copies.list(inheritable);
        permitted = Copies.list(permitted);
        ambient = Copies.list(ambient);
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public Capabilities(List<String> bounding, List<String> effective, List<String> inheritable,
            List<String> permitted, List<String> ambient) {
        this(bounding, effective, inheritable, permitted, ambient, null);
    }

    public Capabilities withBounding(List<String> newBounding) {
        return new Capabilities(newBounding, effective, inheritable, permitted, ambient, unknownFields);
    }

    public Capabilities withEffective(List<String> newEffective) {
        return new Capabilities(bounding, newEffective, inheritable, permitted, ambient, unknownFields);
    }

    public Capabilities withInheritable(List<String> newInheritable) {
        return new Capabilities(bounding, effective, newInheritable, permitted, ambient, unknownFields);
    }

    public Capabilities withPermitted(List<String> newPermitted) {
        return new Capabilities(bounding, effective, inheritable, newPermitted, ambient, unknownFields);
    }

    public Capabilities withAmbient(List<String> newAmbient) {
        return new Capabilities(bounding, effective, inheritable, permitted, newAmbient, unknownFields);
    }

    public Capabilities withUnknownFields(Map<String, Object> newUnknownFields) {
        return new Capabilities(bounding, effective, inheritable, permitted, ambient, newUnknownFields);
    }
}
