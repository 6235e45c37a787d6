package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * Network cgroup settings (runtime-spec {@code LinuxNetwork}).
 *
 * @param classId net_cls class id
 * @param unknownFields JSON fields not modelled here
 */
public record LinuxNetwork(@JsonProperty("classID") Long classId,
                           List<InterfacePriority> priorities,
                           @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public LinuxNetwork {
        priorities = Copies.list(priorities);
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public LinuxNetwork(Long classId, List<InterfacePriority> priorities) {
        this(classId, priorities, null);
    }

    public LinuxNetwork withClassId(Long newClassId) {
        return new LinuxNetwork(newClassId, priorities, unknownFields);
    }

    public LinuxNetwork withPriorities(List<InterfacePriority> newPriorities) {
        return new LinuxNetwork(classId, newPriorities, unknownFields);
    }

    public LinuxNetwork withUnknownFields(Map<String, Object> newUnknownFields) {
        return new LinuxNetwork(classId, priorities, newUnknownFields);
    }

    /**
     * A net_prio priority for one interface (runtime-spec {@code LinuxInterfacePriority}).
     *
     * @param unknownFields JSON fields not modelled here
     */
    public record InterfacePriority(String name,
                                    long priority,
                                    @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
        public InterfacePriority {
            unknownFields = Copies.map(unknownFields);
        }

        /** A value with no unknown fields. */
        public InterfacePriority(String name, long priority) {
            this(name, priority, null);
        }

        public InterfacePriority withName(String newName) {
            return new InterfacePriority(newName, priority, unknownFields);
        }

        public InterfacePriority withPriority(long newPriority) {
            return new InterfacePriority(name, newPriority, unknownFields);
        }

        public InterfacePriority withUnknownFields(Map<String, Object> newUnknownFields) {
            return new InterfacePriority(name, priority, newUnknownFields);
        }
    }
}
