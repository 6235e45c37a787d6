package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.List;
import java.util.Map;

/**
 * The identity the process runs as (runtime-spec {@code User}). Numeric ids are unsigned 32-bit values.
 *
 * @param umask null leaves the runtime's default
 * @param username Windows only
 * @param unknownFields JSON fields not modelled here
 */
public record User(long uid,
                   long gid,
                   Long umask,
                   List<Long> additionalGids,
                   String username,
                   @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public User {
        additionalGids = Copies.list(additionalGids);
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public User(long uid, long gid, Long umask, List<Long> additionalGids, String username) {
        this(uid, gid, umask, additionalGids, username, null);
    }

    public User(long uid, long gid) {
        this(uid, gid, null, null, null);
    }

    /** {@code uid:gid} with no supplementary groups. */
    public static User of(long uid, long gid) {
        return new User(uid, gid);
    }

    public User withUid(long newUid) {
        return new User(newUid, gid, umask, additionalGids, username, unknownFields);
    }

    public User withGid(long newGid) {
        return new User(uid, newGid, umask, additionalGids, username, unknownFields);
    }

    public User withUmask(Long newUmask) {
        return new User(uid, gid, newUmask, additionalGids, username, unknownFields);
    }

    public User withAdditionalGids(List<Long> newAdditionalGids) {
        return new User(uid, gid, umask, newAdditionalGids, username, unknownFields);
    }

    public User withUsername(String newUsername) {
        return new User(uid, gid, umask, additionalGids, newUsername, unknownFields);
    }

    public User withUnknownFields(Map<String, Object> newUnknownFields) {
        return new User(uid, gid, umask, additionalGids, username, newUnknownFields);
    }
}
