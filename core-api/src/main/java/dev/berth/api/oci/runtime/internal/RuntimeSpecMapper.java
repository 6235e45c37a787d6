package dev.berth.api.oci.runtime.internal;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.List;
import java.util.Map;

/** The one Jackson setup for the runtime-spec model. Internal to Berth: use {@code RuntimeSpecJson}. */
public final class RuntimeSpecMapper {
    private static final JsonInclude.Value NON_EMPTY =
            JsonInclude.Value.construct(JsonInclude.Include.NON_EMPTY, JsonInclude.Include.NON_EMPTY);

    // Nulls are left out, and so are empty lists and maps: the model has no null collections, and Go's
    // omitempty gives the same JSON for an empty slice as for a missing one.
    public static final ObjectMapper MAPPER = configure(JsonMapper.builder().build());

    private RuntimeSpecMapper() {
    }

    private static ObjectMapper configure(ObjectMapper mapper) {
        mapper.setDefaultPropertyInclusion(JsonInclude.Include.NON_NULL);
        mapper.configOverride(List.class).setInclude(NON_EMPTY);
        mapper.configOverride(Map.class).setInclude(NON_EMPTY);
        return mapper;
    }
}
