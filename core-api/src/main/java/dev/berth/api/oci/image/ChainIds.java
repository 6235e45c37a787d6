package dev.berth.api.oci.image;

import dev.berth.api.Digest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * ChainIDs name a stack of layers, and so the snapshot that results from applying them in order:
 * {@code chainID(L0) = diffID(L0)} and {@code chainID(L0..n) = sha256(chainID(L0..n-1) + " " + diffID(Ln))}
 * over the digests' string forms. Unpacking commits layer {@code i}'s snapshot under
 * {@code chainIds(diffIds).get(i)}, so identical layer stacks share snapshots across images.
 */
public final class ChainIds {
    private ChainIds() {
    }

    /** The chainID of every prefix of {@code diffIds}: element {@code i} names layers 0..i. */
    public static List<Digest> chainIds(List<Digest> diffIds) {
        Objects.requireNonNull(diffIds, "diffIds");
        List<Digest> out = new ArrayList<>(diffIds.size());
        Digest chain = null;
        for (Digest diffId : diffIds) {
            Objects.requireNonNull(diffId, "diffId");
            chain = chain == null ? diffId : next(chain, diffId);
            out.add(chain);
        }
        return List.copyOf(out);
    }

    /**
     * The chainID of the whole stack.
     *
     * @throws IllegalArgumentException if {@code diffIds} is empty (an empty stack has no chainID)
     */
    public static Digest chainId(List<Digest> diffIds) {
        if (diffIds.isEmpty()) {
            throw new IllegalArgumentException("an empty layer list has no chainID");
        }
        List<Digest> all = chainIds(diffIds);
        return all.get(all.size() - 1);
    }

    /** The chainID of {@code parentChainId}'s stack with one more layer {@code diffId} on top. */
    public static Digest next(Digest parentChainId, Digest diffId) {
        Objects.requireNonNull(parentChainId, "parentChainId");
        Objects.requireNonNull(diffId, "diffId");
        return Digest.sha256((parentChainId + " " + diffId).getBytes(StandardCharsets.UTF_8));
    }
}
