package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.Map;

/**
 * A device cgroup rule (runtime-spec {@code LinuxDeviceCgroup}).
 *
 * @param type {@code a} (all), {@code c} or {@code b}; null means all
 * @param major null means any
 * @param minor null means any
 * @param access any of {@code r}, {@code w}, {@code m}
 * @param unknownFields JSON fields not modelled here
 */
public record LinuxDeviceCgroup(boolean allow,
                                String type,
                                Long major,
                                Long minor,
                                String access,
                                @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public LinuxDeviceCgroup {
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public LinuxDeviceCgroup(boolean allow, String type, Long major, Long minor, String access) {
        this(allow, type, major, minor, access, null);
    }

    public LinuxDeviceCgroup withAllow(boolean newAllow) {
        return new LinuxDeviceCgroup(newAllow, type, major, minor, access, unknownFields);
    }

    public LinuxDeviceCgroup withType(String newType) {
        return new LinuxDeviceCgroup(allow, newType, major, minor, access, unknownFields);
    }

    public LinuxDeviceCgroup withMajor(Long newMajor) {
        return new LinuxDeviceCgroup(allow, type, newMajor, minor, access, unknownFields);
    }

    public LinuxDeviceCgroup withMinor(Long newMinor) {
        return new LinuxDeviceCgroup(allow, type, major, newMinor, access, unknownFields);
    }

    public LinuxDeviceCgroup withAccess(String newAccess) {
        return new LinuxDeviceCgroup(allow, type, major, minor, newAccess, unknownFields);
    }

    public LinuxDeviceCgroup withUnknownFields(Map<String, Object> newUnknownFields) {
        return new LinuxDeviceCgroup(allow, type, major, minor, access, newUnknownFields);
    }
}
