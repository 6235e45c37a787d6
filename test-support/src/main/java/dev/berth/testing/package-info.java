/**
 * Test fixtures for Berth's modules: real layers and images built in memory, without network.
 *
 * <ul>
 *   <li>{@link dev.berth.testing.LayerBuilder} / {@link dev.berth.testing.TarEntry}: tar layers (gzip,
 *       zstd or plain) with any entry type, PAX xattrs, whiteouts, and hostile entries written verbatim;
 *       result {@link dev.berth.testing.TestLayer} (blob, tar, digest, diffID).</li>
 *   <li>{@link dev.berth.testing.TestImageBuilder} / {@link dev.berth.testing.IndexBuilder}: manifests,
 *       configs and (nested, multi-platform, Docker) indexes; results {@link dev.berth.testing.TestImage}
 *       and {@link dev.berth.testing.TestIndex} with every descriptor and blob.</li>
 *   <li>{@link dev.berth.testing.OciLayout} (directory or tar) and {@link dev.berth.testing.DockerArchive}
 *       ({@code docker save} tar) write them out.</li>
 *   <li>{@link dev.berth.testing.Busybox}: a runnable rootfs from the host's static busybox, as an image,
 *       a layer, or written straight into a directory.</li>
 *   <li>{@link dev.berth.testing.FileTree}: records a directory tree (modes, owners, xattrs, mtimes,
 *       devices, hardlinks) and reports readable differences between two trees.</li>
 * </ul>
 *
 * <p>Everything is deterministic: the same calls give the same bytes and digests. Builders are not
 * thread-safe; results are immutable (byte arrays are shared and must not be modified).
 */
package dev.berth.testing;
