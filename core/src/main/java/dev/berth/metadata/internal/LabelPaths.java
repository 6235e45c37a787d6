package dev.berth.metadata.internal;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import java.util.Map;
import java.util.TreeMap;

/** containerd's label field paths: {@code labels} replaces all labels, {@code labels.<key>} one of them. */
final class LabelPaths {
    private LabelPaths() {
    }

    static boolean isLabelPath(String path) {
        return path.equals("labels") || path.startsWith("labels.");
    }

    /**
     * Applies one label field path to {@code labels} (modified in place): {@code labels} copies all of
     * {@code requested} but its empty values; {@code labels.<key>} copies that key, or removes it when {@code requested}
     * lacks it or maps it to the empty string.
     */
    static void apply(TreeMap<String, String> labels, Map<String, String> requested, String path) {
        if (path.equals("labels")) {
            labels.clear();
            labels.putAll(withoutEmptyValues(requested));
            return;
        }
        String key = path.substring("labels.".length());
        if (key.isEmpty()) {
            throw new InvalidArgumentException("field path \"labels.\" names no label");
        }
        String value = requested.get(key);
        if (value == null || value.isEmpty()) {
            labels.remove(key);
        } else {
            labels.put(key, value);
        }
    }

    /** As containerd stores labels: an empty value means "no such label", so it is dropped. */
    static Map<String, String> withoutEmptyValues(Map<String, String> labels) {
        TreeMap<String, String> out = new TreeMap<>();
        labels.forEach((k, v) -> {
            if (v != null && !v.isEmpty()) {
                out.put(k, v);
            }
        });
        return out;
    }

    /** Applies only label paths (no paths = replace all) and validates the result. */
    static Map<String, String> update(Map<String, String> current, Map<String, String> requested, String what,
                                      String... fieldPaths) {
        TreeMap<String, String> labels = new TreeMap<>(current);
        if (fieldPaths == null || fieldPaths.length == 0) {
            apply(labels, requested, "labels");
        } else {
            for (String p : fieldPaths) {
                if (!isLabelPath(p)) {
                    throw new InvalidArgumentException("cannot update field \"" + p + "\" of " + what
                            + ": only labels and labels.<key> can change");
                }
                apply(labels, requested, p);
            }
        }
        Labels.validate(labels);
        return labels;
    }
}
