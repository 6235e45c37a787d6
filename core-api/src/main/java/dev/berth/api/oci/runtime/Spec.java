package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import java.util.List;
import java.util.Map;

/**
 * The OCI runtime configuration, the {@code config.json} of a bundle (runtime-spec {@code Spec}).
 *
 * <p>Field names are OCI's JSON names. Absent scalars and nested objects are {@code null}; absent lists
 * and maps are empty and are left out when written. Fields this model does not know (other platforms,
 * newer spec versions) are kept in {@link #unknownFields()} and written back unchanged, so a spec
 * parsed with {@link RuntimeSpecJson#parse(byte[])} round-trips. Immutable and thread-safe.
 *
 * @param ociVersion the runtime-spec version the spec follows, e.g. {@code 1.0.2-dev}
 * @param root the container's root filesystem, {@code rootfs} relative to the bundle by default
 * @param unknownFields JSON fields not modelled here, in the order read
 */
public record Spec(String ociVersion,
                   Process process,
                   Root root,
                   String hostname,
                   String domainname,
                   List<Mount> mounts,
                   Hooks hooks,
                   Map<String, String> annotations,
                   Linux linux,
                   @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public Spec {
        mounts = Copies.list(mounts);
        annotations = Copies.map(annotations);
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public Spec(String ociVersion, Process process, Root root, String hostname, String domainname, List<Mount> mounts,
            Hooks hooks, Map<String, String> annotations, Linux linux) {
        this(ociVersion, process, root, hostname, domainname, mounts, hooks, annotations, linux, null);
    }

    public Spec withOciVersion(String newOciVersion) {
        return new Spec(newOciVersion, process, root, hostname, domainname, mounts, hooks, annotations, linux,
                unknownFields);
    }

    public Spec withProcess(Process newProcess) {
        return new Spec(ociVersion, newProcess, root, hostname, domainname, mounts, hooks, annotations, linux,
                unknownFields);
    }

    public Spec withRoot(Root newRoot) {
        return new Spec(ociVersion, process, newRoot, hostname, domainname, mounts, hooks, annotations, linux,
                unknownFields);
    }

    public Spec withHostname(String newHostname) {
        return new Spec(ociVersion, process, root, newHostname, domainname, mounts, hooks, annotations, linux,
                unknownFields);
    }

    public Spec withDomainname(String newDomainname) {
        return new Spec(ociVersion, process, root, hostname, newDomainname, mounts, hooks, annotations, linux,
                unknownFields);
    }

    public Spec withMounts(List<Mount> newMounts) {
        return new Spec(ociVersion, process, root, hostname, domainname, newMounts, hooks, annotations, linux,
                unknownFields);
    }

    public Spec withHooks(Hooks newHooks) {
        return new Spec(ociVersion, process, root, hostname, domainname, mounts, newHooks, annotations, linux,
                unknownFields);
    }

    public Spec withAnnotations(Map<String, String> newAnnotations) {
        return new Spec(ociVersion, process, root, hostname, domainname, mounts, hooks, newAnnotations, linux,
                unknownFields);
    }

    public Spec withLinux(Linux newLinux) {
        return new Spec(ociVersion, process, root, hostname, domainname, mounts, hooks, annotations, newLinux,
                unknownFields);
    }

    public Spec withUnknownFields(Map<String, Object> newUnknownFields) {
        return new Spec(ociVersion, process, root, hostname, domainname, mounts, hooks, annotations, linux,
                newUnknownFields);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this value. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.ociVersion = ociVersion;
        b.process = process;
        b.root = root;
        b.hostname = hostname;
        b.domainname = domainname;
        b.mounts = mounts;
        b.hooks = hooks;
        b.annotations = annotations;
        b.linux = linux;
        b.unknownFields = unknownFields;
        return b;
    }

    /** Collects the fields of a {@link Spec}; not thread-safe. */
    public static final class Builder {
        private String ociVersion;
        private Process process;
        private Root root;
        private String hostname;
        private String domainname;
        private List<Mount> mounts;
        private Hooks hooks;
        private Map<String, String> annotations;
        private Linux linux;
        private Map<String, Object> unknownFields;

        private Builder() {
        }

        public Builder ociVersion(String value) {
            this.ociVersion = value;
            return this;
        }

        public Builder process(Process value) {
            this.process = value;
            return this;
        }

        public Builder root(Root value) {
            this.root = value;
            return this;
        }

        public Builder hostname(String value) {
            this.hostname = value;
            return this;
        }

        public Builder domainname(String value) {
            this.domainname = value;
            return this;
        }

        public Builder mounts(List<Mount> value) {
            this.mounts = value;
            return this;
        }

        public Builder hooks(Hooks value) {
            this.hooks = value;
            return this;
        }

        public Builder annotations(Map<String, String> value) {
            this.annotations = value;
            return this;
        }

        public Builder linux(Linux value) {
            this.linux = value;
            return this;
        }

        public Builder unknownFields(Map<String, Object> value) {
            this.unknownFields = value;
            return this;
        }

        public Spec build() {
            return new Spec(ociVersion, process, root, hostname, domainname, mounts, hooks, annotations, linux,
                    unknownFields);
        }
    }
}
