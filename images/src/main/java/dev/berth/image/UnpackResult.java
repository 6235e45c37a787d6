package dev.berth.image;

import dev.berth.api.Digest;
import java.util.List;
import java.util.Objects;

/**
 * What {@link ImageService#unpack} did.
 *
 * @param snapshotter the snapshotter's name ({@code overlayfs}, {@code native})
 * @param chainIds    the committed snapshot of each layer prefix, lowest first; the last one is the
 *                    image's root file system (parent of a container's snapshot)
 * @param applied     layers extracted by this call
 * @param skipped     layers whose snapshot already existed (unpacked before, or by a concurrent caller)
 */
public record UnpackResult(String snapshotter, List<Digest> chainIds, int applied, int skipped) {
    public UnpackResult {
        Objects.requireNonNull(snapshotter, "snapshotter");
        chainIds = List.copyOf(chainIds);
    }

    /** The snapshot name of the whole image, or null for an image without layers. */
    public Digest topChainId() {
        return chainIds.isEmpty() ? null : chainIds.get(chainIds.size() - 1);
    }
}
