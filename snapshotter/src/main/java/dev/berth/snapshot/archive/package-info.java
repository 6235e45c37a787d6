/**
 * Applying OCI image layers to snapshots: {@link dev.berth.snapshot.archive.LayerApplier} turns a layer
 * tar (plain, gzip or zstd) into changes of a naive directory or of an overlay upper directory, with
 * the changeset semantics of the OCI image-spec evaluated against the merged view of the lower layers,
 * confined to the snapshot's root.
 */
package dev.berth.snapshot.archive;
