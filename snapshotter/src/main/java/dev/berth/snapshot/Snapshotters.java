package dev.berth.snapshot;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.snapshot.internal.LocalSnapshotter;
import dev.berth.snapshot.internal.OverlayProbe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Opens the local snapshotters, with containerd's semantics and on-disk layout.
 *
 * <pre>
 *   if (Snapshotters.probeOverlay(root).supported()) {
 *       snapshotter = Snapshotters.overlay(root);            // overlayfs: layers stacked by the kernel
 *   } else {
 *       snapshotter = Snapshotters.nativeSnapshotter(root);  // native: each snapshot a full copy
 *   }
 * </pre>
 * Several snapshotters (in this or other processes) may open the same root at once: their metadata is
 * one SQLite database, and every change is a transaction. A snapshotter holds a database connection
 * until {@link Snapshotter#close()}.
 */
public final class Snapshotters {
    /** Label overlay snapshots report when {@link OverlayBuilder#upperdirLabel(boolean)} is on. */
    public static final String UPPERDIR_LABEL = "containerd.io/snapshot/overlay.upperdir";

    private static final Duration DEFAULT_BUSY_TIMEOUT = Duration.ofSeconds(60);

    private Snapshotters() {
    }

    /** The overlayfs snapshotter at {@code root}, with default options. */
    public static Snapshotter overlay(Path root) {
        return overlayBuilder(root).build();
    }

    /** The native (copying) snapshotter at {@code root}, with default options. */
    public static Snapshotter nativeSnapshotter(Path root) {
        return nativeBuilder(root).build();
    }

    public static OverlayBuilder overlayBuilder(Path root) {
        return new OverlayBuilder(root);
    }

    public static NativeBuilder nativeBuilder(Path root) {
        return new NativeBuilder(root);
    }

    /**
     * The options an overlay snapshotter adds by default: {@code index=off} when the kernel has that
     * parameter, {@code userxattr} when running in a user namespace.
     */
    public static List<String> defaultOverlayOptions() {
        return OverlayProbe.defaultOptions();
    }

    /**
     * Mounts a scratch overlay (two lower layers, an upper dir, the default options) in a temporary
     * directory under {@code dir}, which should be on the file system the snapshotter root will use,
     * and removes it again. Fails for overlay on overlay, missing {@code CAP_SYS_ADMIN}, kernels
     * without overlay, and so on.
     */
    public static OverlaySupport probeOverlay(Path dir) {
        List<String> defaults = OverlayProbe.defaultOptions();
        OverlayProbe.Result r = OverlayProbe.probe(dir.toAbsolutePath().normalize(), defaults);
        return new OverlaySupport(r.failure().isEmpty(), r.failure(), r.defaultOptions());
    }

    /**
     * {@link #probeOverlay}, remembering a success in {@code <dir>/.overlay-probe} for this boot, kernel and
     * these default options, so that later opens of the same directory (a CLI call each) skip the test mount.
     * A failure is not remembered: it is probed again each time, so a fixed environment is noticed.
     * A success is also remembered for the file system (a block device's, under {@code /run}, so for this
     * boot): a new directory on it, as a new root is, is trusted without a test mount.
     */
    public static OverlaySupport probeOverlayRemembered(Path dir) {
        List<String> defaults = OverlayProbe.defaultOptions();
        Path absolute = dir.toAbsolutePath().normalize();
        if (OverlayProbe.rememberedSuccess(absolute, defaults)) {
            return new OverlaySupport(true, "", defaults);
        }
        if (Files.isDirectory(absolute) && OverlayProbe.rememberedOnFileSystem(absolute, defaults)) {
            OverlayProbe.rememberSuccess(absolute, defaults);
            return new OverlaySupport(true, "", defaults);
        }
        OverlayProbe.Result r = OverlayProbe.probe(absolute, defaults);
        if (r.failure().isEmpty()) {
            OverlayProbe.rememberSuccess(absolute, defaults);
            OverlayProbe.rememberOnFileSystem(absolute, defaults);
        }
        return new OverlaySupport(r.failure().isEmpty(), r.failure(), r.defaultOptions());
    }

    private static Duration checkTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "busyTimeout");
        if (timeout.isNegative()) {
            throw new InvalidArgumentException("busyTimeout must not be negative: " + timeout);
        }
        return timeout;
    }

    /** Options of the overlayfs snapshotter. Not thread-safe; {@link #build()} may be called repeatedly. */
    public static final class OverlayBuilder {
        private final Path root;
        private final List<String> mountOptions = new ArrayList<>();
        private boolean defaultOptions = true;
        private boolean upperdirLabel;
        private boolean syncRemove = true;
        private Duration busyTimeout = DEFAULT_BUSY_TIMEOUT;

        private OverlayBuilder(Path root) {
            this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
        }

        /**
         * Whether {@code remove} deletes the snapshot's directory before returning (default true). With
         * false it only deletes the record, like containerd's default; {@code cleanup()} reclaims the
         * space later.
         */
        public OverlayBuilder syncRemove(boolean syncRemove) {
            this.syncRemove = syncRemove;
            return this;
        }

        /** How long to wait for another process's metadata transaction (default 60 s). */
        public OverlayBuilder busyTimeout(Duration timeout) {
            this.busyTimeout = checkTimeout(timeout);
            return this;
        }

        /** Extra overlay mount options put first in every overlay mount (containerd's {@code mount_options}). */
        public OverlayBuilder mountOptions(List<String> options) {
            for (String o : Objects.requireNonNull(options, "mountOptions")) {
                if (o == null || o.isEmpty() || o.contains(",")) {
                    throw new InvalidArgumentException("overlay mount option \"" + o
                            + "\" must be one non-empty option without commas");
                }
                String key = o.contains("=") ? o.substring(0, o.indexOf('=')) : o;
                if (key.equals("lowerdir") || key.equals("upperdir") || key.equals("workdir")) {
                    throw new InvalidArgumentException("overlay mount option \"" + o
                            + "\" is set by the snapshotter for each snapshot");
                }
            }
            mountOptions.clear();
            mountOptions.addAll(options);
            return this;
        }

        /**
         * Whether to add {@link Snapshotters#defaultOverlayOptions()} (default true); an option whose key
         * is already among {@link #mountOptions} is not added again.
         */
        public OverlayBuilder defaultOptions(boolean add) {
            this.defaultOptions = add;
            return this;
        }

        /** Whether snapshots report their upper directory in label {@link Snapshotters#UPPERDIR_LABEL}. */
        public OverlayBuilder upperdirLabel(boolean upperdirLabel) {
            this.upperdirLabel = upperdirLabel;
            return this;
        }

        /**
         * Opens the snapshotter, creating the root if needed. Does not mount anything: use
         * {@link Snapshotters#probeOverlay} to find out whether overlay works there.
         *
         * @throws InvalidArgumentException if the root path contains {@code ,} or {@code :}, which
         *                                  overlay's option syntax cannot carry
         */
        public Snapshotter build() {
            String r = root.toString();
            if (r.contains(",") || r.contains(":")) {
                throw new InvalidArgumentException("overlay snapshotter root " + r
                        + " must not contain ',' or ':' (they separate overlay mount options and lower dirs)");
            }
            List<String> options = new ArrayList<>(mountOptions);
            if (defaultOptions) {
                for (String d : OverlayProbe.defaultOptions()) {
                    String key = d.contains("=") ? d.substring(0, d.indexOf('=')) : d;
                    boolean present = options.stream().anyMatch(o -> o.equals(key) || o.startsWith(key + "="));
                    if (!present) {
                        options.add(d);
                    }
                }
            }
            return LocalSnapshotter.openOverlay(root, options, upperdirLabel, syncRemove, busyTimeout);
        }
    }

    /** Options of the native snapshotter. Not thread-safe; {@link #build()} may be called repeatedly. */
    public static final class NativeBuilder {
        private final Path root;
        private boolean syncRemove = true;
        private Duration busyTimeout = DEFAULT_BUSY_TIMEOUT;

        private NativeBuilder(Path root) {
            this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
        }

        /**
         * Whether {@code remove} deletes the snapshot's directory before returning (default true). With
         * false it only deletes the record, like containerd's default; {@code cleanup()} reclaims the
         * space later.
         */
        public NativeBuilder syncRemove(boolean syncRemove) {
            this.syncRemove = syncRemove;
            return this;
        }

        /** How long to wait for another process's metadata transaction (default 60 s). */
        public NativeBuilder busyTimeout(Duration timeout) {
            this.busyTimeout = checkTimeout(timeout);
            return this;
        }

        /** Opens the snapshotter, creating the root if needed. */
        public Snapshotter build() {
            return LocalSnapshotter.openNative(root, syncRemove, busyTimeout);
        }
    }
}
