package dev.berth.image.internal;

import dev.berth.api.Digest;
import dev.berth.api.Labels;
import dev.berth.api.NotImplementedException;
import dev.berth.api.content.ContentStore;
import dev.berth.api.content.Info;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets the labels containerd writes on image blobs. A bare local content store keeps no labels
 * ({@code update} throws {@link NotImplementedException}); then nothing is set and nothing fails: labels
 * belong to the metadata layer that wraps the store (the {@code core} module), which supports them.
 */
public final class ContentLabels {
    private static final Logger LOG = LoggerFactory.getLogger(ContentLabels.class);

    private ContentLabels() {
    }

    /**
     * Adds (or replaces) {@code labels} on blob {@code digest}, leaving its other labels alone.
     *
     * @return false if the store keeps no labels
     */
    public static boolean add(ContentStore store, Digest digest, Map<String, String> labels) {
        if (labels.isEmpty()) {
            return true;
        }
        List<String> paths = new ArrayList<>();
        for (String key : labels.keySet()) {
            paths.add("labels." + key);
        }
        try {
            Info info = store.info(digest);
            Map<String, String> merged = new HashMap<>(info.labels());
            merged.putAll(labels);
            store.update(info.withLabels(merged), paths.toArray(String[]::new));
            return true;
        } catch (NotImplementedException e) {
            LOG.debug("content store keeps no labels; not labelling {} with {}", digest, labels.keySet());
            return false;
        }
    }

    /**
     * containerd's {@code ChildGCLabels}: {@code containerd.io/gc.ref.content.config} for a manifest's
     * config, {@code .l.<i>} for its layers, {@code .m.<i>} for an index's manifests.
     */
    public static Map<String, String> manifestChildren(Digest config, List<Digest> layers) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Labels.GC_REF_CONTENT + ".config", config.toString());
        for (int i = 0; i < layers.size(); i++) {
            labels.put(Labels.GC_REF_CONTENT + ".l." + i, layers.get(i).toString());
        }
        return labels;
    }

    /** {@code containerd.io/gc.ref.content.m.<i>} for each entry of an index. */
    public static Map<String, String> indexChildren(List<Digest> manifests) {
        Map<String, String> labels = new LinkedHashMap<>();
        for (int i = 0; i < manifests.size(); i++) {
            labels.put(Labels.GC_REF_CONTENT + ".m." + i, manifests.get(i).toString());
        }
        return labels;
    }
}
