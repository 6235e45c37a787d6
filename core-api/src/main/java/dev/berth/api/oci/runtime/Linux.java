package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.List;
import java.util.Map;

/**
 * The Linux-specific part of the spec (runtime-spec {@code Linux}).
 *
 * @param sysctl kernel parameters set in the container's namespaces
 * @param cgroupsPath absolute cgroup path, or {@code slice:prefix:name} with the systemd driver
 * @param rootfsPropagation {@code shared}, {@code slave}, {@code private}, ...
 * @param maskedPaths paths the runtime hides (bind-mounts {@code /dev/null} or an empty tmpfs over)
 * @param readonlyPaths paths the runtime remounts read-only
 * @param unknownFields JSON fields not modelled here (e.g. {@code timeOffsets})
 */
public record Linux(List<IdMapping> uidMappings,
                    List<IdMapping> gidMappings,
                    Map<String, String> sysctl,
                    LinuxResources resources,
                    String cgroupsPath,
                    List<LinuxNamespace> namespaces,
                    List<LinuxDevice> devices,
                    LinuxSeccomp seccomp,
                    String rootfsPropagation,
                    List<String> maskedPaths,
                    List<String> readonlyPaths,
                    String mountLabel,
                    LinuxIntelRdt intelRdt,
                    LinuxPersonality personality,
                    @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public Linux {
        uidMappings = Copies.list(uidMappings);
        gidMappings = Copies.list(gidMappings);
        sysctl = Copies.map(sysctl);
        namespaces = Copies.list(namespaces);
        devices = Copies.list(devices);
        maskedPaths = Copies.list(maskedPaths);
        readonlyPaths = Copies.list(readonlyPaths);
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public Linux(List<IdMapping> uidMappings, List<IdMapping> gidMappings, Map<String, String> sysctl,
            LinuxResources resources, String cgroupsPath, List<LinuxNamespace> namespaces, List<LinuxDevice> devices,
            LinuxSeccomp seccomp, String rootfsPropagation, List<String> maskedPaths, List<String> readonlyPaths,
            String mountLabel, LinuxIntelRdt intelRdt, LinuxPersonality personality) {
        this(uidMappings, gidMappings, sysctl, resources, cgroupsPath, namespaces, devices, seccomp,
                rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, intelRdt, personality, null);
    }

    public Linux withUidMappings(List<IdMapping> newUidMappings) {
        return new Linux(newUidMappings, gidMappings, sysctl, resources, cgroupsPath, namespaces, devices, seccomp,
                rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, intelRdt, personality, unknownFields);
    }

    public Linux withGidMappings(List<IdMapping> newGidMappings) {
        return new Linux(uidMappings, newGidMappings, sysctl, resources, cgroupsPath, namespaces, devices, seccomp,
                rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, intelRdt, personality, unknownFields);
    }

    public Linux withSysctl(Map<String, String> newSysctl) {
        return new Linux(uidMappings, gidMappings, newSysctl, resources, cgroupsPath, namespaces, devices, seccomp,
                rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, intelRdt, personality, unknownFields);
    }

    public Linux withResources(LinuxResources newResources) {
        return new Linux(uidMappings, gidMappings, sysctl, newResources, cgroupsPath, namespaces, devices, seccomp,
                rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, intelRdt, personality, unknownFields);
    }

    public Linux withCgroupsPath(String newCgroupsPath) {
        return new Linux(uidMappings, gidMappings, sysctl, resources, newCgroupsPath, namespaces, devices, seccomp,
                rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, intelRdt, personality, unknownFields);
    }

    public Linux withNamespaces(List<LinuxNamespace> newNamespaces) {
        return new Linux(uidMappings, gidMappings, sysctl, resources, cgroupsPath, newNamespaces, devices, seccomp,
                rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, intelRdt, personality, unknownFields);
    }

    public Linux withDevices(List<LinuxDevice> newDevices) {
        return new Linux(uidMappings, gidMappings, sysctl, resources, cgroupsPath, namespaces, newDevices, seccomp,
                rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, intelRdt, personality, unknownFields);
    }

    public Linux withSeccomp(LinuxSeccomp newSeccomp) {
        return new Linux(uidMappings, gidMappings, sysctl, resources, cgroupsPath, namespaces, devices, newSeccomp,
                rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, intelRdt, personality, unknownFields);
    }

    public Linux withRootfsPropagation(String newRootfsPropagation) {
        return new Linux(uidMappings, gidMappings, sysctl, resources, cgroupsPath, namespaces, devices, seccomp,
                newRootfsPropagation, maskedPaths, readonlyPaths, mountLabel, intelRdt, personality, unknownFields);
    }

    public Linux withMaskedPaths(List<String> newMaskedPaths) {
        return new Linux(uidMappings, gidMappings, sysctl, resources, cgroupsPath, namespaces, devices, seccomp,
                rootfsPropagation, newMaskedPaths, readonlyPaths, mountLabel, intelRdt, personality, unknownFields);
    }

    public Linux withReadonlyPaths(List<String> newReadonlyPaths) {
        return new Linux(uidMappings, gidMappings, sysctl, resources, cgroupsPath, namespaces, devices, seccomp,
                rootfsPropagation, maskedPaths, newReadonlyPaths, mountLabel, intelRdt, personality, unknownFields);
    }

    public Linux withMountLabel(String newMountLabel) {
        return new Linux(uidMappings, gidMappings, sysctl, resources, cgroupsPath, namespaces, devices, seccomp,
                rootfsPropagation, maskedPaths, readonlyPaths, newMountLabel, intelRdt, personality, unknownFields);
    }

    public Linux withIntelRdt(LinuxIntelRdt newIntelRdt) {
        return new Linux(uidMappings, gidMappings, sysctl, resources, cgroupsPath, namespaces, devices, seccomp,
                rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, newIntelRdt, personality, unknownFields);
    }

    public Linux withPersonality(LinuxPersonality newPersonality) {
        return new Linux(uidMappings, gidMappings, sysctl, resources, cgroupsPath, namespaces, devices, seccomp,
                rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, intelRdt, newPersonality, unknownFields);
    }

    public Linux withUnknownFields(Map<String, Object> newUnknownFields) {
        return new Linux(uidMappings, gidMappings, sysctl, resources, cgroupsPath, namespaces, devices, seccomp,
                rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, intelRdt, personality, newUnknownFields);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this value. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.uidMappings = uidMappings;
        b.gidMappings = gidMappings;
        b.sysctl = sysctl;
        b.resources = resources;
        b.cgroupsPath = cgroupsPath;
        b.namespaces = namespaces;
        b.devices = devices;
        b.seccomp = seccomp;
        b.rootfsPropagation = rootfsPropagation;
        b.maskedPaths = maskedPaths;
        b.readonlyPaths = readonlyPaths;
        b.mountLabel = mountLabel;
        b.intelRdt = intelRdt;
        b.personality = personality;
        b.unknownFields = unknownFields;
        return b;
    }

    /** Collects the fields of a {@link Linux}; not thread-safe. */
    public static final class Builder {
        private List<IdMapping> uidMappings;
        private List<IdMapping> gidMappings;
        private Map<String, String> sysctl;
        private LinuxResources resources;
        private String cgroupsPath;
        private List<LinuxNamespace> namespaces;
        private List<LinuxDevice> devices;
        private LinuxSeccomp seccomp;
        private String rootfsPropagation;
        private List<String> maskedPaths;
        private List<String> readonlyPaths;
        private String mountLabel;
        private LinuxIntelRdt intelRdt;
        private LinuxPersonality personality;
        private Map<String, Object> unknownFields;

        private Builder() {
        }

        public Builder uidMappings(List<IdMapping> value) {
            this.uidMappings = value;
            return this;
        }

        public Builder gidMappings(List<IdMapping> value) {
            this.gidMappings = value;
            return this;
        }

        public Builder sysctl(Map<String, String> value) {
            this.sysctl = value;
            return this;
        }

        public Builder resources(LinuxResources value) {
            this.resources = value;
            return this;
        }

        public Builder cgroupsPath(String value) {
            this.cgroupsPath = value;
            return this;
        }

        public Builder namespaces(List<LinuxNamespace> value) {
            this.namespaces = value;
            return this;
        }

        public Builder devices(List<LinuxDevice> value) {
            this.devices = value;
            return this;
        }

        public Builder seccomp(LinuxSeccomp value) {
            this.seccomp = value;
            return this;
        }

        public Builder rootfsPropagation(String value) {
            this.rootfsPropagation = value;
            return this;
        }

        public Builder maskedPaths(List<String> value) {
            this.maskedPaths = value;
            return this;
        }

        public Builder readonlyPaths(List<String> value) {
            this.readonlyPaths = value;
            return this;
        }

        public Builder mountLabel(String value) {
            this.mountLabel = value;
            return this;
        }

        public Builder intelRdt(LinuxIntelRdt value) {
            this.intelRdt = value;
            return this;
        }

        public Builder personality(LinuxPersonality value) {
            this.personality = value;
            return this;
        }

        public Builder unknownFields(Map<String, Object> value) {
            this.unknownFields = value;
            return this;
        }

        public Linux build() {
            return new Linux(uidMappings, gidMappings, sysctl, resources, cgroupsPath, namespaces, devices, seccomp,
                    rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, intelRdt, personality, unknownFields);
        }
    }
}
