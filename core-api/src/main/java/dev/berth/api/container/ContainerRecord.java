package dev.berth.api.container;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A container record: containerd's {@code containers.Container}. It is metadata only — the image it came
 * from, the runtime that runs it, its OCI spec (JSON bytes), and the snapshot holding its rootfs. A
 * running process is a task, created from a container.
 *
 * @param spec the OCI runtime spec as JSON bytes (kept byte-exact)
 */
public record ContainerRecord(String id, Map<String, String> labels, String image, Runtime runtime, byte[] spec,
                        String snapshotter, String snapshotKey, Instant createdAt, Instant updatedAt,
                        Map<String, byte[]> extensions) {
    public ContainerRecord {
        Objects.requireNonNull(id, "id");
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        extensions = extensions == null ? Map.of() : Map.copyOf(extensions);
    }

    /**
     * The runtime: a name such as {@code io.containerd.runc.v2} (or an absolute shim path) and its options
     * as a protobuf {@code Any} (type URL and bytes; both empty for none).
     */
    public record Runtime(String name, String optionsTypeUrl, byte[] options) {
        public Runtime {
            Objects.requireNonNull(name, "name");
            optionsTypeUrl = optionsTypeUrl == null ? "" : optionsTypeUrl;
            options = options == null ? new byte[0] : options;
        }

        public Runtime(String name) {
            this(name, "", new byte[0]);
        }
    }
}
