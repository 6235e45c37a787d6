package dev.berth.api.oci.runtime;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Defensive copies for the model's compact constructors: absent collections become empty ones. */
final class Copies {
    private Copies() {
    }

    static <T> List<T> list(List<T> list) {
        if (list == null) {
            return List.of();
        }
        for (T element : list) {
            if (element == null) {
                throw new IllegalArgumentException("null element in list");
            }
        }
        return List.copyOf(list);
    }

    // Keeps insertion order (annotations, sysctls and unknown fields are written back as read) and allows
    // JSON null values, which Map.copyOf would reject.
    static <K, V> Map<K, V> map(Map<K, V> map) {
        if (map == null || map.isEmpty()) {
            return Map.of();
        }
        return Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }
}
