/**
 * Images: resolve, unpack, import, export and build OCI and Docker images on a content store, an image
 * store and snapshotters.
 *
 * <ul>
 *   <li>{@link dev.berth.image.ImageService}: the facade (built with a builder).</li>
 *   <li>{@link dev.berth.api.image.ImageReference}: image names parsed and normalized as containerd does.</li>
 *   <li>{@link dev.berth.image.ImageBuilder} and {@link dev.berth.image.LayerContent}: reproducible
 *       images from files and directories.</li>
 *   <li>{@link dev.berth.image.InMemoryImageStore}: an image store for tests and embedding without the
 *       metadata database.</li>
 *   <li>Errors: {@link dev.berth.image.BlobMismatchException} (size or digest of a blob differs from its
 *       descriptor), {@link dev.berth.image.DiffIdMismatchException} (unpacked layer differs from the
 *       config), and the {@code dev.berth.api} exceptions.</li>
 * </ul>
 *
 * <p><b>Labels.</b> Import, build and unpack write containerd's labels on blobs
 * ({@code containerd.io/gc.ref.content.*}, {@code containerd.io/uncompressed},
 * {@code containerd.io/gc.ref.snapshot.<snapshotter>}) through {@code ContentStore.update}. The bare
 * local content store keeps no labels and answers {@code NotImplementedException}; the labels are then
 * skipped silently, and the metadata layer of the {@code core} module, which keeps labels, gets them.
 */
package dev.berth.image;
