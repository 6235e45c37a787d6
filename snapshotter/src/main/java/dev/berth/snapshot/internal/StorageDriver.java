package dev.berth.snapshot.internal;

import dev.berth.api.Mount;
import dev.berth.api.snapshot.Kind;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What distinguishes one local snapshotter from another: how a snapshot's directory is filled, which
 * mounts expose it, and where its own layer lives. {@code parents} lists parent ids nearest first.
 */
interface StorageDriver {

    String name();

    /** Whether a snapshot of this kind and parentage gets a directory of its own. */
    boolean needsDirectory(Kind kind, List<Long> parents);

    /** Fills the freshly created (empty, 0755) directory {@code dir} of a new snapshot. */
    void populate(Path dir, Kind kind, List<Long> parents) throws IOException;

    List<Mount> mounts(long id, Kind kind, List<Long> parents);

    /** The directory holding the snapshot's own layer, whose disk usage {@code usage} reports. */
    Path layerDir(long id);

    /** Labels reported with every snapshot but not stored (overlay's upperdir label). */
    default Map<String, String> reportedLabels(long id) {
        return Map.of();
    }
}
