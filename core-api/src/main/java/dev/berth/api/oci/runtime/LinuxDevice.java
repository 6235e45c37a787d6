package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.Map;

/**
 * A device node the runtime creates in the container (runtime-spec {@code LinuxDevice}).
 *
 * @param type {@code c}, {@code b}, {@code u} or {@code p}
 * @param fileMode permission bits, e.g. {@code 0666}
 * @param unknownFields JSON fields not modelled here
 */
public record LinuxDevice(String path,
                          String type,
                          long major,
                          long minor,
                          Integer fileMode,
                          Long uid,
                          Long gid,
                          @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public LinuxDevice {
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public LinuxDevice(String path, String type, long major, long minor, Integer fileMode, Long uid, Long gid) {
        this(path, type, major, minor, fileMode, uid, gid, null);
    }

    public LinuxDevice withPath(String newPath) {
        return new LinuxDevice(newPath, type, major, minor, fileMode, uid, gid, unknownFields);
    }

    public LinuxDevice withType(String newType) {
        return new LinuxDevice(path, newType, major, minor, fileMode, uid, gid, unknownFields);
    }

    public LinuxDevice withMajor(long newMajor) {
        return new LinuxDevice(path, type, newMajor, minor, fileMode, uid, gid, unknownFields);
    }

    public LinuxDevice withMinor(long newMinor) {
        return new LinuxDevice(path, type, major, newMinor, fileMode, uid, gid, unknownFields);
    }

    public LinuxDevice withFileMode(Integer newFileMode) {
        return new LinuxDevice(path, type, major, minor, newFileMode, uid, gid, unknownFields);
    }

    public LinuxDevice withUid(Long newUid) {
        return new LinuxDevice(path, type, major, minor, fileMode, newUid, gid, unknownFields);
    }

    public LinuxDevice withGid(Long newGid) {
        return new LinuxDevice(path, type, major, minor, fileMode, uid, newGid, unknownFields);
    }

    public LinuxDevice withUnknownFields(Map<String, Object> newUnknownFields) {
        return new LinuxDevice(path, type, major, minor, fileMode, uid, gid, newUnknownFields);
    }
}
