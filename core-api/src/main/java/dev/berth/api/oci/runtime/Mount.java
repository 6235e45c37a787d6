package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.List;
import java.util.Map;

/**
 * A mount inside the container (runtime-spec {@code Mount}), applied by the runtime in list order.
 * Not to be confused with {@link dev.berth.api.Mount}, a host-side mount of a snapshot.
 *
 * @param destination absolute path inside the container
 * @param type filesystem type, e.g. {@code proc}, {@code tmpfs}, {@code bind}
 * @param source device, path on the host or a pseudo source such as {@code proc}
 * @param options fstab-style options ({@code ro}, {@code rbind}, {@code mode=755})
 * @param unknownFields JSON fields not modelled here
 */
public record Mount(String destination,
                    String type,
                    String source,
                    List<String> options,
                    List<IdMapping> uidMappings,
                    List<IdMapping> gidMappings,
                    @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public Mount {
        options = Copies.list(options);
        uidMappings = Copies.list(uidMappings);
        gidMappings = Copies.list(gidMappings);
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public Mount(String destination, String type, String source, List<String> options, List<IdMapping> uidMappings,
            List<IdMapping> gidMappings) {
        this(destination, type, source, options, uidMappings, gidMappings, null);
    }

    public Mount(String destination, String type, String source, List<String> options) {
        this(destination, type, source, options, null, null);
    }

    public Mount withDestination(String newDestination) {
        return new Mount(newDestination, type, source, options, uidMappings, gidMappings, unknownFields);
    }

    public Mount withType(String newType) {
        return new Mount(destination, newType, source, options, uidMappings, gidMappings, unknownFields);
    }

    public Mount withSource(String newSource) {
        return new Mount(destination, type, newSource, options, uidMappings, gidMappings, unknownFields);
    }

    public Mount withOptions(List<String> newOptions) {
        return new Mount(destination, type, source, newOptions, uidMappings, gidMappings, unknownFields);
    }

    public Mount withUidMappings(List<IdMapping> newUidMappings) {
        return new Mount(destination, type, source, options, newUidMappings, gidMappings, unknownFields);
    }

    public Mount withGidMappings(List<IdMapping> newGidMappings) {
        return new Mount(destination, type, source, options, uidMappings, newGidMappings, unknownFields);
    }

    public Mount withUnknownFields(Map<String, Object> newUnknownFields) {
        return new Mount(destination, type, source, options, uidMappings, gidMappings, newUnknownFields);
    }
}
