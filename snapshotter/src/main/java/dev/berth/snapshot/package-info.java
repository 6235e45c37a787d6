/**
 * Local snapshotters with containerd's semantics and on-disk layout: {@link dev.berth.snapshot.Snapshotters}
 * opens the overlayfs snapshotter (layers stacked by the kernel) or the native one (each snapshot a full
 * copy, for file systems where overlay cannot be mounted), both implementing
 * {@link dev.berth.api.snapshot.Snapshotter}. Mounting what they return is
 * {@link dev.berth.snapshot.mount.Mounts}' job.
 */
package dev.berth.snapshot;
