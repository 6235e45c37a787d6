package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * Intel RDT settings (runtime-spec {@code LinuxIntelRdt}).
 *
 * @param unknownFields JSON fields not modelled here
 */
public record LinuxIntelRdt(@JsonProperty("closID") String closId,
                            String l3CacheSchema,
                            String memBwSchema,
                            @JsonProperty("enableCMT") Boolean enableCmt,
                            @JsonProperty("enableMBM") Boolean enableMbm,
                            @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public LinuxIntelRdt {
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public LinuxIntelRdt(String closId, String l3CacheSchema, String memBwSchema, Boolean enableCmt,
            Boolean enableMbm) {
        this(closId, l3CacheSchema, memBwSchema, enableCmt, enableMbm, null);
    }

    public LinuxIntelRdt withClosId(String newClosId) {
        return new LinuxIntelRdt(newClosId, l3CacheSchema, memBwSchema, enableCmt, enableMbm, unknownFields);
    }

    public LinuxIntelRdt withL3CacheSchema(String newL3CacheSchema) {
        return new LinuxIntelRdt(closId, newL3CacheSchema, memBwSchema, enableCmt, enableMbm, unknownFields);
    }

    public LinuxIntelRdt withMemBwSchema(String newMemBwSchema) {
        return new LinuxIntelRdt(closId, l3CacheSchema, newMemBwSchema, enableCmt, enableMbm, unknownFields);
    }

    public LinuxIntelRdt withEnableCmt(Boolean newEnableCmt) {
        return new LinuxIntelRdt(closId, l3CacheSchema, memBwSchema, newEnableCmt, enableMbm, unknownFields);
    }

    public LinuxIntelRdt withEnableMbm(Boolean newEnableMbm) {
        return new LinuxIntelRdt(closId, l3CacheSchema, memBwSchema, enableCmt, newEnableMbm, unknownFields);
    }

    public LinuxIntelRdt withUnknownFields(Map<String, Object> newUnknownFields) {
        return new LinuxIntelRdt(closId, l3CacheSchema, memBwSchema, enableCmt, enableMbm, newUnknownFields);
    }
}
