package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.List;
import java.util.Map;

/**
 * Hooks the runtime runs around the container's lifecycle (runtime-spec {@code Hooks}).
 *
 * @param prestart deprecated by the spec in favour of createRuntime
 * @param unknownFields JSON fields not modelled here
 */
public record Hooks(List<Hook> prestart,
                    List<Hook> createRuntime,
                    List<Hook> createContainer,
                    List<Hook> startContainer,
                    List<Hook> poststart,
                    List<Hook> poststop,
                    @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public Hooks {
        prestart = Copies.list(prestart);
        createRuntime = Copies.list(createRuntime);
        createContainer = Copies.list(createContainer);
        startContainer = Copies.list(startContainer);
        poststart = Copies.list(poststart);
        poststop = Copies.list(poststop);
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public Hooks(List<Hook> prestart, List<Hook> createRuntime, List<Hook> createContainer, List<Hook> startContainer,
            List<Hook> poststart, List<Hook> poststop) {
        this(prestart, createRuntime, createContainer, startContainer, poststart, poststop, null);
    }

    public Hooks withPrestart(List<Hook> newPrestart) {
        return new Hooks(newPrestart, createRuntime, createContainer, startContainer, poststart, poststop,
                unknownFields);
    }

    public Hooks withCreateRuntime(List<Hook> newCreateRuntime) {
        return new Hooks(prestart, newCreateRuntime, createContainer, startContainer, poststart, poststop,
                unknownFields);
    }

    public Hooks withCreateContainer(List<Hook> newCreateContainer) {
        return new Hooks(prestart, createRuntime, newCreateContainer, startContainer, poststart, poststop,
                unknownFields);
    }

    public Hooks withStartContainer(List<Hook> newStartContainer) {
        return new Hooks(prestart, createRuntime, createContainer, newStartContainer, poststart, poststop,
                unknownFields);
    }

    public Hooks withPoststart(List<Hook> newPoststart) {
        return new Hooks(prestart, createRuntime, createContainer, startContainer, newPoststart, poststop,
                unknownFields);
    }

    public Hooks withPoststop(List<Hook> newPoststop) {
        return new Hooks(prestart, createRuntime, createContainer, startContainer, poststart, newPoststop,
                unknownFields);
    }

    public Hooks withUnknownFields(Map<String, Object> newUnknownFields) {
        return new Hooks(prestart, createRuntime, createContainer, startContainer, poststart, poststop,
                newUnknownFields);
    }
}
