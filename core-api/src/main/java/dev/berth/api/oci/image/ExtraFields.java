package dev.berth.api.oci.image;

import dev.berth.api.InvalidArgumentException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Deep, order-keeping, null-tolerant unmodifiable copies of unknown JSON fields. */
final class ExtraFields {
    private ExtraFields() {
    }

    static Map<String, Object> freeze(Map<String, ?> extras, Set<String> knownFields, String what) {
        if (extras == null || extras.isEmpty()) {
            return Map.of();
        }
        Map<String, Object> copy = new LinkedHashMap<>();
        for (Map.Entry<String, ?> e : extras.entrySet()) {
            String key = e.getKey();
            if (key == null) {
                throw new InvalidArgumentException(what + ": extra field with null name");
            }
            if (knownFields.contains(key)) {
                throw new InvalidArgumentException(what + ": \"" + key
                        + "\" is a modelled field and cannot be an extra field");
            }
            copy.put(key, freezeValue(e.getValue(), what + "." + key));
        }
        return Collections.unmodifiableMap(copy);
    }

    private static Object freezeValue(Object v, String where) {
        if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean) {
            return v;
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> copy = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String k)) {
                    throw new InvalidArgumentException(where + ": JSON object keys must be strings");
                }
                copy.put(k, freezeValue(e.getValue(), where + "." + k));
            }
            return Collections.unmodifiableMap(copy);
        }
        if (v instanceof List<?> l) {
            List<Object> copy = new ArrayList<>(l.size());
            for (int i = 0; i < l.size(); i++) {
                copy.add(freezeValue(l.get(i), where + "[" + i + "]"));
            }
            return Collections.unmodifiableList(copy);
        }
        throw new InvalidArgumentException(where + ": " + v.getClass().getName()
                + " is not a JSON value (use Map, List, String, Number, Boolean or null)");
    }
}
