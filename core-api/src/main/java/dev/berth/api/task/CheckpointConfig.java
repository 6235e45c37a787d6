package dev.berth.api.task;

import dev.berth.api.InvalidArgumentException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How to checkpoint a task with CRIU ({@link Task#checkpoint}): where the images go and what CRIU may
 * take along. The options are the runc shim's {@code containerd.runc.v1.CheckpointOptions}.
 *
 * @param imageDir absolute directory the CRIU images are written to (restore from it with
 *                 {@link TaskConfig.Builder#restoreFrom})
 * @param workDir CRIU's work directory (logs); empty = the shim's default inside the bundle
 * @param exit stop the task after checkpointing it (otherwise it keeps running)
 * @param openTcp checkpoint established TCP connections
 * @param externalUnixSockets checkpoint connections to unix sockets outside the container
 * @param terminal checkpoint a task that has a terminal
 * @param fileLocks checkpoint file locks
 * @param emptyNamespaces namespaces (e.g. {@code network}) restored empty instead of from the image
 * @param cgroupsMode CRIU's {@code --manage-cgroups-mode} ({@code soft}, {@code full}, {@code strict}); empty = default
 */
public record CheckpointConfig(Path imageDir, Optional<Path> workDir, boolean exit, boolean openTcp,
                               boolean externalUnixSockets, boolean terminal, boolean fileLocks,
                               List<String> emptyNamespaces, String cgroupsMode) {
    public CheckpointConfig {
        Objects.requireNonNull(imageDir, "imageDir");
        if (!imageDir.isAbsolute()) {
            throw new InvalidArgumentException("checkpoint image directory must be absolute: " + imageDir);
        }
        workDir = workDir == null ? Optional.empty() : workDir;
        workDir.ifPresent(w -> {
            if (!w.isAbsolute()) {
                throw new InvalidArgumentException("checkpoint work directory must be absolute: " + w);
            }
        });
        emptyNamespaces = List.copyOf(emptyNamespaces == null ? List.of() : emptyNamespaces);
        cgroupsMode = cgroupsMode == null ? "" : cgroupsMode;
        if (!List.of("", "soft", "full", "strict").contains(cgroupsMode)) {
            throw new InvalidArgumentException("cgroupsMode must be soft, full or strict, got \"" + cgroupsMode + "\"");
        }
    }

    /** Checkpoint into {@code imageDir} and leave the task running, with CRIU's defaults otherwise. */
    public static CheckpointConfig to(Path imageDir) {
        return new CheckpointConfig(imageDir, Optional.empty(), false, false, false, false, false, List.of(), "");
    }

    /** This configuration, stopping the task once checkpointed. */
    public CheckpointConfig withExit(boolean newExit) {
        return new CheckpointConfig(imageDir, workDir, newExit, openTcp, externalUnixSockets, terminal, fileLocks,
                emptyNamespaces, cgroupsMode);
    }

    /** A builder for a checkpoint into {@code imageDir}. */
    public static Builder builder(Path imageDir) {
        return new Builder(imageDir);
    }

    /** Collects the options; {@link #build()} validates them. */
    public static final class Builder {
        private final Path imageDir;
        private Path workDir;
        private boolean exit;
        private boolean openTcp;
        private boolean externalUnixSockets;
        private boolean terminal;
        private boolean fileLocks;
        private List<String> emptyNamespaces = List.of();
        private String cgroupsMode = "";

        private Builder(Path imageDir) {
            this.imageDir = Objects.requireNonNull(imageDir, "imageDir");
        }

        public Builder workDir(Path workDir) {
            this.workDir = Objects.requireNonNull(workDir, "workDir");
            return this;
        }

        public Builder exit(boolean exit) {
            this.exit = exit;
            return this;
        }

        public Builder openTcp(boolean openTcp) {
            this.openTcp = openTcp;
            return this;
        }

        public Builder externalUnixSockets(boolean externalUnixSockets) {
            this.externalUnixSockets = externalUnixSockets;
            return this;
        }

        public Builder terminal(boolean terminal) {
            this.terminal = terminal;
            return this;
        }

        public Builder fileLocks(boolean fileLocks) {
            this.fileLocks = fileLocks;
            return this;
        }

        public Builder emptyNamespaces(List<String> namespaces) {
            this.emptyNamespaces = List.copyOf(namespaces);
            return this;
        }

        public Builder cgroupsMode(String mode) {
            this.cgroupsMode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /** @throws InvalidArgumentException for a relative directory or an unknown cgroups mode */
        public CheckpointConfig build() {
            return new CheckpointConfig(imageDir, Optional.ofNullable(workDir), exit, openTcp, externalUnixSockets,
                    terminal, fileLocks, emptyNamespaces, cgroupsMode);
        }
    }
}
