package dev.berth.api.task;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Options for the runc shim ({@code io.containerd.runc.v2}), sent to it as
 * {@code containerd.runc.v1.Options}. {@code binaryName} picks the OCI runtime ({@code crun},
 * {@code runsc}, an absolute path); empty means {@code runc}. {@code root} is where that runtime keeps its
 * state; empty means the task runtime's own directory ({@code <state>/runc}), so Berth never shares
 * containerd's.
 */
public record RuncOptions(String binaryName, Optional<Path> root, boolean systemdCgroup, boolean noPivotRoot,
                          boolean noNewKeyring, String shimCgroup, int ioUid, int ioGid, String criuPath) {
    public RuncOptions {
        binaryName = binaryName == null ? "" : binaryName;
        root = root == null ? Optional.empty() : root;
        shimCgroup = shimCgroup == null ? "" : shimCgroup;
        criuPath = criuPath == null ? "" : criuPath;
        if (ioUid < 0 || ioGid < 0) {
            throw new dev.berth.api.InvalidArgumentException("ioUid and ioGid must not be negative");
        }
    }

    /** runc with every default. */
    public static RuncOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.binaryName = binaryName;
        b.root = root.orElse(null);
        b.systemdCgroup = systemdCgroup;
        b.noPivotRoot = noPivotRoot;
        b.noNewKeyring = noNewKeyring;
        b.shimCgroup = shimCgroup;
        b.ioUid = ioUid;
        b.ioGid = ioGid;
        b.criuPath = criuPath;
        return b;
    }

    public static final class Builder {
        private String binaryName = "";
        private Path root;
        private boolean systemdCgroup;
        private boolean noPivotRoot;
        private boolean noNewKeyring;
        private String shimCgroup = "";
        private int ioUid;
        private int ioGid;
        private String criuPath = "";

        private Builder() {
        }

        /** The OCI runtime binary: a name looked up on the shim's PATH or an absolute path. */
        public Builder binaryName(String binaryName) {
            this.binaryName = Objects.requireNonNull(binaryName, "binaryName");
            return this;
        }

        public Builder root(Path root) {
            this.root = Objects.requireNonNull(root, "root");
            return this;
        }

        public Builder systemdCgroup(boolean systemdCgroup) {
            this.systemdCgroup = systemdCgroup;
            return this;
        }

        public Builder noPivotRoot(boolean noPivotRoot) {
            this.noPivotRoot = noPivotRoot;
            return this;
        }

        public Builder noNewKeyring(boolean noNewKeyring) {
            this.noNewKeyring = noNewKeyring;
            return this;
        }

        /** A cgroup the shim process itself is moved into. */
        public Builder shimCgroup(String shimCgroup) {
            this.shimCgroup = Objects.requireNonNull(shimCgroup, "shimCgroup");
            return this;
        }

        /** Owner of the stdio pipes the shim creates (for a container running as another user). */
        public Builder ioOwner(int uid, int gid) {
            this.ioUid = uid;
            this.ioGid = gid;
            return this;
        }

        public Builder criuPath(String criuPath) {
            this.criuPath = Objects.requireNonNull(criuPath, "criuPath");
            return this;
        }

        public RuncOptions build() {
            return new RuncOptions(binaryName, Optional.ofNullable(root), systemdCgroup, noPivotRoot, noNewKeyring,
                    shimCgroup, ioUid, ioGid, criuPath);
        }
    }
}
