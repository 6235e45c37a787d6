package dev.berth.runtime.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The shim grouping of the runc shim's {@code start}: a task whose spec carries one of
 * {@link #LABELS} (checked in that order) runs in the shim of that group (the shim's socket address is
 * derived from the group instead of the task id, and a {@code start} that finds the socket answering
 * reuses that shim). containerd's CRI groups a pod this way: the pause container and every container of
 * the pod carry {@code io.kubernetes.cri.sandbox-id}.
 *
 * <p>The shim decides its own lifetime: its {@code Shutdown} is ignored while it still has containers, so
 * the shim exits with the delete of the group's last task, whichever runtime (process) deletes it. A
 * runtime only needs to know a task is grouped so that its delete neither kills the shim nor removes its
 * socket while other tasks of the group remain; the group is recorded in the bundle ({@link #FILE}).
 */
final class ShimGroup {
    /** The runc shim's grouping annotations, in the order it looks for them. */
    static final List<String> LABELS = List.of("io.containerd.runc.v2.group", "io.kubernetes.cri.sandbox-id");
    /** The bundle file naming the task's shim group. */
    static final String FILE = "berth-shim-group";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ShimGroup() {
    }

    /** The group {@code spec} (config.json bytes) puts its task in, if any. */
    static Optional<String> of(byte[] spec) {
        if (!mentionsALabel(spec)) {
            return Optional.empty();
        }
        try {
            JsonNode annotations = JSON.readTree(spec).path("annotations");
            for (String label : LABELS) {
                String group = annotations.path(label).asText("");
                if (!group.isEmpty()) {
                    return Optional.of(group);
                }
            }
        } catch (IOException e) {
            // not JSON: the shim rejects it at create, with its own message
        }
        return Optional.empty();
    }

    private static boolean mentionsALabel(byte[] spec) {
        String text = new String(spec, StandardCharsets.ISO_8859_1);
        return LABELS.stream().anyMatch(text::contains);
    }

    /**
     * Whether a task of {@code namespace} other than {@code id} is in {@code group} (has a bundle naming
     * it): then the group's shim keeps serving it after {@code id} is deleted.
     */
    static boolean hasOtherTasks(Path tasksDir, String namespace, String id, String group) {
        Path nsDir = tasksDir.resolve(namespace);
        if (!Files.isDirectory(nsDir)) {
            return false;
        }
        try (var dirs = Files.list(nsDir)) {
            return dirs.anyMatch(dir -> {
                String name = dir.getFileName().toString();
                if (name.equals(id) || name.startsWith(".")) {
                    return false;
                }
                try {
                    return Files.readString(dir.resolve(FILE), StandardCharsets.UTF_8).equals(group);
                } catch (IOException e) {
                    return false; // no group, or the bundle went away meanwhile
                }
            });
        } catch (IOException e) {
            // cannot tell: keep the shim (it still exits by itself once its last container is deleted)
            return true;
        }
    }
}
