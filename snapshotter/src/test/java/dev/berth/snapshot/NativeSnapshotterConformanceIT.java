package dev.berth.snapshot;

import dev.berth.api.snapshot.Snapshotter;
import java.nio.file.Path;

/** containerd's snapshotter suite on the native (copying) snapshotter. */
class NativeSnapshotterConformanceIT extends SnapshotterConformance {
    @Override
    Snapshotter open(Path root) {
        return Snapshotters.nativeSnapshotter(root);
    }

    @Override
    long childLayerInodes() {
        return 5; // the copied parent file as well
    }

    @Override
    boolean childLayersHoldOnlyTheirChanges() {
        return false;
    }
}
