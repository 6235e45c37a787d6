package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.Map;

/**
 * A namespace the container gets (runtime-spec {@code LinuxNamespace}): a new one, or the one at
 * {@code path} when set.
 *
 * @param type one of the {@code *} constants, e.g. {@link #PID}
 * @param path a namespace file such as {@code /proc/1234/ns/net} to join, or null for a new namespace
 * @param unknownFields JSON fields not modelled here
 */
public record LinuxNamespace(String type,
                             String path,
                             @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public static final String PID = "pid";
    public static final String NETWORK = "network";
    public static final String MOUNT = "mount";
    public static final String IPC = "ipc";
    public static final String UTS = "uts";
    public static final String USER = "user";
    public static final String CGROUP = "cgroup";
    public static final String TIME = "time";

    public LinuxNamespace {
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public LinuxNamespace(String type, String path) {
        this(type, path, null);
    }

    public LinuxNamespace(String type) {
        this(type, null);
    }

    public LinuxNamespace withType(String newType) {
        return new LinuxNamespace(newType, path, unknownFields);
    }

    public LinuxNamespace withPath(String newPath) {
        return new LinuxNamespace(type, newPath, unknownFields);
    }

    public LinuxNamespace withUnknownFields(Map<String, Object> newUnknownFields) {
        return new LinuxNamespace(type, path, newUnknownFields);
    }
}
