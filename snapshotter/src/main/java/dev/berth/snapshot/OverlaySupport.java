package dev.berth.snapshot;

import java.util.List;
import java.util.Objects;

/**
 * Whether overlayfs can be used under a directory, as {@link Snapshotters#probeOverlay} found out by
 * mounting a small overlay there; {@code reason} says why not (e.g. overlay on overlay, no
 * {@code CAP_SYS_ADMIN}), and {@code defaultOptions} are the options an overlay snapshotter would add.
 */
public record OverlaySupport(boolean supported, String reason, List<String> defaultOptions) {
    public OverlaySupport {
        Objects.requireNonNull(reason, "reason");
        defaultOptions = List.copyOf(defaultOptions);
    }
}
