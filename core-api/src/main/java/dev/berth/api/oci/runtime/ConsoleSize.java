package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.Map;

/**
 * The size of the console in characters (runtime-spec {@code Box}).
 *
 * @param unknownFields JSON fields not modelled here
 */
public record ConsoleSize(long height,
                          long width,
                          @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public ConsoleSize {
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public ConsoleSize(long height, long width) {
        this(height, width, null);
    }

    public ConsoleSize withHeight(long newHeight) {
        return new ConsoleSize(newHeight, width, unknownFields);
    }

    public ConsoleSize withWidth(long newWidth) {
        return new ConsoleSize(height, newWidth, unknownFields);
    }

    public ConsoleSize withUnknownFields(Map<String, Object> newUnknownFields) {
        return new ConsoleSize(height, width, newUnknownFields);
    }
}
