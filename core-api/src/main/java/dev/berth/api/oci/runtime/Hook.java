package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.List;
import java.util.Map;

/**
 * A hook command (runtime-spec {@code Hook}).
 *
 * @param path absolute path of the executable on the host
 * @param timeout seconds, null for none
 * @param unknownFields JSON fields not modelled here
 */
public record Hook(String path,
                   List<String> args,
                   List<String> env,
                   Integer timeout,
                   @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public Hook {
        args = Copies.list(args);
        env = Copies.list(env);
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public Hook(String path, List<String> args, List<String> env, Integer timeout) {
        this(path, args, env, timeout, null);
    }

    public Hook(String path, List<String> args) {
        this(path, args, null, null);
    }

    public Hook withPath(String newPath) {
        return new Hook(newPath, args, env, timeout, unknownFields);
    }

    public Hook withArgs(List<String> newArgs) {
        return new Hook(path, newArgs, env, timeout, unknownFields);
    }

    public Hook withEnv(List<String> newEnv) {
        return new Hook(path, args, newEnv, timeout, unknownFields);
    }

    public Hook withTimeout(Integer newTimeout) {
        return new Hook(path, args, env, newTimeout, unknownFields);
    }

    public Hook withUnknownFields(Map<String, Object> newUnknownFields) {
        return new Hook(path, args, env, timeout, newUnknownFields);
    }
}
